"""The recorder: capture live traffic to tapes, redacted before anything touches disk.

``session`` owns a tape being recorded; ``proxy`` the recording proxy (``relay_http``,
``relay_ws``, ``relay_sio`` its three relays, ``taps`` what it writes of each stream,
``failures`` what went wrong upstream); ``capture`` the direct captures (REST polling, a
WebSocket, a Socket.IO session); ``har`` HAR files; ``modes``, ``deck`` and ``episodes`` the
record modes (a tape replayed, recorded, or replayed with new episodes recorded beside it).
"""

from harness.recorder.deck import TapeDeck
from harness.recorder.modes import RecordMode, Upstreams
from harness.recorder.proxy import RecordingProxy
from harness.recorder.session import RecordingSession

__all__ = ["RecordMode", "RecordingProxy", "RecordingSession", "TapeDeck", "Upstreams"]
