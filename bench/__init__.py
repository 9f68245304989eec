"""Benchmarks of the project: ``python -m bench`` runs them all and prints one table."""
