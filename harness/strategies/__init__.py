"""Hypothesis strategies for tape frames and the three APIs' messages."""
