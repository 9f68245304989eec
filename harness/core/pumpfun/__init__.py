"""Pump.fun frontend REST contract rules (contract §1)."""
