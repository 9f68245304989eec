"""The PumpPortal data WebSocket profile (contract §4): its rules as a sans-I/O session.

``config`` (the emulation's choices where the contract is silent), ``families`` (which
PumpPortal message a frame is), ``requests`` (what a client may send, with bounded cost),
``recorded`` (what a tape shows of the service) and ``session`` (one connection). Pure.
"""
