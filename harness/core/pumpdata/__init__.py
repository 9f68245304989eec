"""PumpData Socket.IO contract rules (CONTRACTS.md section 2)."""
