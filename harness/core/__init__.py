"""The pure core: tape frames, contract rules and clock arithmetic.

Nothing in this package may import asyncio, sockets, aiohttp, socketio, engineio or websockets,
open files or read a clock: time is always an argument (``tests/core/test_purity.py`` checks).
"""
