"""The recorder: capture live traffic to tapes, redacted before anything touches disk.

``session`` owns a tape being recorded; ``proxy`` the recording proxy (``relay_http``,
``relay_ws``, ``relay_sio`` its three relays, ``failures`` what went wrong upstream); ``capture``
the direct captures (REST polling, a WebSocket, a Socket.IO session); ``har`` HAR files.
"""

from harness.recorder.proxy import RecordingProxy
from harness.recorder.session import RecordingSession

__all__ = ["RecordingProxy", "RecordingSession"]
