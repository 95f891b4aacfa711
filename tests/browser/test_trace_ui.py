"""In a real browser, as an operator told "our referral never arrived": the trace UI (Zipkin, run by
the stack) finds the referral's trace by its id and shows every service it went through."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.harness import ServiceProcesses, intake_trace
from tests.support import TestStack, referral_bundle

pytestmark = pytest.mark.browser


async def test_an_operator_finds_a_referrals_trace_by_its_id_and_sees_all_three_services(
    browser: Browser, referral_api: httpx.AsyncClient, services: ServiceProcesses, stack: TestStack
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    response = await referral_api.post(
        "/fhir/$process-message", json=bundle, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 200, response.text
    # Wait until the trace is complete in the backend (spans are exported in batches).
    trace = await intake_trace(
        stack, referral_id, "telemedicine handle referral-requested", "notifier deliver webhook"
    )
    trace_id = trace[0]["traceId"]

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        search = urlencode({"annotationQuery": f"fasttrack.referral.id={referral_id}"})
        await page.goto(f"{stack.zipkin_url}/zipkin/?{search}")
        await page.get_by_role("button", name="Run query").click()
        # The search lists the referral's trace (and any later one naming it), each with the
        # services it went through.
        trace_link = page.locator(f'a[href$="/traces/{trace_id}"]')
        await expect(trace_link).to_be_visible(timeout=20_000)
        await page.get_by_role("button", name="Expand all").click()
        for service in ("referral", "telemedicine", "notifier"):
            spans_of = page.get_by_text(re.compile(rf"^{service} \(\d+\)$"))
            await expect(spans_of.first).to_be_visible()
        # The trace itself: three services, and the spans that tell the path.
        await trace_link.click()
        await expect(page.get_by_text(trace_id)).to_be_visible(timeout=20_000)
        await expect(page.locator("text=Services").locator("..")).to_contain_text("3")
        await page.get_by_role("button", name="Span table").click()
        for span in ("referral intake", "telemedicine handle referral-requested"):
            await expect(page.get_by_role("cell", name=span, exact=True).first).to_be_visible()
        # The table shows the first rows in time; sorted by service, the notifier's come first.
        await page.get_by_role("columnheader", name="Service name").click()
        await expect(page.get_by_role("cell", name="notifier", exact=True).first).to_be_visible()
    finally:
        await context.close()
