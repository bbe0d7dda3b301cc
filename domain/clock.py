"""The clock every layer takes: a function returning an aware UTC ``datetime``.

The domain never reads the time itself: commands are handed ``at``. Use cases, projections and
adapters take a ``Clock`` so tests and replays control time; ``utc_now`` is the real one, which
only the composition root hands out.
"""

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
