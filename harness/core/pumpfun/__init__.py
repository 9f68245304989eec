"""Pump.fun frontend REST contract rules (CONTRACTS.md section 1)."""
