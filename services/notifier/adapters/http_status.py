"""How the HTTP channels (webhook, LINE, SMS gateways) read a failed answer: retry or not, and
how long the server asked us to wait."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

# Request timeout, too early, too many requests; and every server error.
RETRYABLE_CLIENT_STATUS = frozenset({408, 425, 429})


def is_retryable(status: int) -> bool:
    return status in RETRYABLE_CLIENT_STATUS or status >= 500


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None
