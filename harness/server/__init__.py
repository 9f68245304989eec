"""The mock server: one aiohttp application that replays tapes as the four services.

``app.MockServer`` composes the protocol emulators (``rest``: Pump.fun REST, ``corto``: the Data
Stream WebSocket, ``pumpdata``: the PumpData Socket.IO API) around one replay clock
(``scheduler``) and collects contract violations. Emulators hold no contract rules: those are in
``harness.core``.
"""
