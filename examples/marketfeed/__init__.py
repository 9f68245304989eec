"""marketfeed: a small sample client package, written as a user of harness writes one.

Three clients of the real services (their base URLs are arguments, so tests point them at
harness): :class:`Poller` polls the Pump.fun frontend API with ETags within its rate limits,
:class:`StreamSubscriber` keeps a corto.fun Data Stream subscription through closes, repeats and
garbage, and :class:`CandleBook` keeps a PumpData pool's 1-second candles, upserted by time.
``examples/tests`` shows the harness pytest plugin testing them.
"""

from marketfeed.candles import Candle, CandleBook
from marketfeed.poller import Poller, PollError
from marketfeed.stream import StreamSubscriber, SubscriptionRefused

__all__ = ["Candle", "CandleBook", "PollError", "Poller", "StreamSubscriber", "SubscriptionRefused"]
