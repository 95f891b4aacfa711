"""The referral service's collaborators, in one typed container built by ``bootstrap.py``.

Entry points receive it (or one of its parts) through the ``Annotated`` dependencies of
``entrypoints/deps.py``; consumers and workers receive their parts when they are wired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from fastapi.templating import Jinja2Templates

from services.referral.domain.accounts import SignInRules
from services.referral.service.context import ReferralContext
from services.referral.workers.page_feed import PageFeed


@dataclass(frozen=True)
class ConsoleSettings:
    """The operators' console (entrypoints/console_pages.py)."""

    stuck_after: timedelta = timedelta(minutes=10)
    # The trace UI's base URL (Zipkin's ``/zipkin``): a referral's trace is ``/traces/<id>``.
    trace_ui_url: str = "http://127.0.0.1:19411/zipkin"


@dataclass(frozen=True)
class ReferralContainer:
    context: ReferralContext
    # The service's HTML pages (templates/; their assets in static/).
    pages: Jinja2Templates
    # Numbers the timeline's committed entries and wakes the pages' live streams.
    page_feed: PageFeed
    # How often an idle page's live stream says it is alive and checks the person's session.
    page_heartbeat_s: float = 15.0
    # Sessions' lifetime and the sign-in rate limit of the web app.
    sign_in_rules: SignInRules = field(default_factory=SignInRules)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
