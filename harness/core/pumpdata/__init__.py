"""PumpData Socket.IO contract rules (contract §2)."""
