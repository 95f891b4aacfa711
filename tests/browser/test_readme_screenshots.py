"""The README's pictures of the operators' tools, taken in the real browser against the real
stack: the console with a stuck referral, and that referral's trace in the trace UI (Zipkin).
Each run saves them under tests/browser/artifacts/ (console.png, trace.png); the README's
copies in docs/images/ are taken from there."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser.accessibility import screenshot
from tests.browser.conftest import Person
from tests.browser.console_sign_in import origin, signed_in_at_origin
from tests.e2e.harness import intake_trace, post_referral_to
from tests.support import TestStack

pytestmark = pytest.mark.browser


async def test_the_console_and_a_trace_as_the_readme_shows_them(
    browser: Browser,
    stack: TestStack,
    app_url: str,
    operator: Person,
    referral_api: httpx.AsyncClient,
) -> None:
    referral_id = await post_referral_to(referral_api, "kantang-hospital")
    page = await signed_in_at_origin(browser, stack, operator, "/app/console/")
    try:
        await page.goto(f"{origin(stack)}/app/console/?{urlencode({'referral': referral_id})}")
        stuck = page.locator(f'tr.stuck-referral[data-referral-id="{referral_id}"]')
        await expect(stuck).to_be_visible(timeout=30_000)
        assert (await screenshot(page, "console")).stat().st_size > 0

        trace = await intake_trace(stack, referral_id, "referral intake")
        await page.goto(f"{stack.zipkin_url}/zipkin/traces/{trace[0]['traceId']}")
        await expect(page.get_by_text(trace[0]["traceId"])).to_be_visible(timeout=30_000)
        await expect(page.get_by_text("referral intake").first).to_be_visible()
        assert (await screenshot(page, "trace")).stat().st_size > 0
    finally:
        await page.context.close()
