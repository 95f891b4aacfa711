"""In a real browser, at the one origin people use (the test stack's nginx), as the network's
operator told "our referral never arrived": the console finds the referral, says where it
stopped and links its trace; the health page shows the hospital connectors, every service's
outbox (the notifier's and telemedicine's from themselves) and the consumer lag. Anyone else is
refused, and a hospital's key gets 403 on the operator fragments."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import Person
from tests.browser.console_sign_in import origin, signed_in_at_origin
from tests.e2e.harness import NOTIFIER_URL, SERVICE_PORTS, post_referral_to
from tests.support import TestStack, as_hospital

pytestmark = pytest.mark.browser

SLOW = 30_000  # ms: a busy 2-core machine; the stuck threshold of the test stack is 3 s


async def test_an_operator_finds_a_stuck_referral_sees_where_it_stopped_and_its_trace(
    browser: Browser,
    stack: TestStack,
    app_url: str,
    operator: Person,
    referral_api: httpx.AsyncClient,
) -> None:
    # Kantang is paged and never answers: the referral stops after its page.
    referral_id = await post_referral_to(referral_api, "kantang-hospital")
    page = await signed_in_at_origin(browser, stack, operator, "/app/")
    try:
        # The operator's home is the console.
        await expect(page).to_have_url(f"{origin(stack)}/app/console/")
        await page.locator("#search-referral").fill(referral_id)
        await page.locator(".console-search button[type=submit]").click()
        row = page.locator(f'tr.stuck-referral[data-referral-id="{referral_id}"]')
        await expect(row).to_be_visible(timeout=SLOW)
        await expect(row.locator(".waiting-for")).to_have_attribute("data-hop", "answered")
        await expect(row.locator(".stopped-at")).to_have_attribute(
            "data-hop", re.compile("first-page-sent|first-page-delivered|acknowledged")
        )
        # Its hops, each with a time, and the link to its trace in the trace UI.
        flow = page.locator(f'article.flow[data-referral-id="{referral_id}"]')
        for hop in ("intake", "published", "first-page-sent"):
            await expect(flow.locator(f'tr[data-hop="{hop}"] time')).to_have_count(1)
        await expect(flow.locator(".is-stuck, strong")).not_to_have_count(0)
        trace = flow.locator("a.trace")
        await expect(trace).to_have_attribute(
            "href", re.compile(rf"^{re.escape(stack.zipkin_url)}/zipkin/traces/[0-9a-f]{{32}}$")
        )
        # Ids, hospitals, states and times only: not the example's patient.
        await expect(page.locator("main")).not_to_contain_text("HN-6501234")
        await assert_accessible(page)
    finally:
        await page.context.close()


async def test_the_health_page_shows_connectors_every_outbox_and_the_consumer_lag(
    browser: Browser,
    stack: TestStack,
    app_url: str,
    operator: Person,
    referral_api: httpx.AsyncClient,
) -> None:
    await post_referral_to(referral_api, "trang-hospital")
    page = await signed_in_at_origin(browser, stack, operator, "/app/console/health")
    try:
        sikao = page.locator('#connectors tr[data-hospital="sikao-hospital"]')
        await expect(sikao).to_contain_text("REST")
        await expect(sikao.locator("time")).to_have_count(1)
        # Every service's outbox row; the notifier's and telemedicine's come from themselves.
        for service in ("referral", "telemedicine", "notifier"):
            backlog = page.locator(f'#outboxes tr[data-service="{service}"] td.backlog')
            await expect(backlog).to_have_text(re.compile(r"^\d+$"), timeout=SLOW)
        await expect(page.locator('#lag tr[data-group="fasttrack-notifier"]').first).to_be_visible(
            timeout=SLOW
        )
        await assert_accessible(page)
    finally:
        await page.context.close()


@pytest.mark.parametrize("who", ["hub_nurse", "spoke_doctor", "hub_admin"])
async def test_anyone_but_an_operator_is_refused_the_console(
    browser: Browser, stack: TestStack, app_url: str, who: str, request: pytest.FixtureRequest
) -> None:
    person: Person = request.getfixturevalue(who)
    page = await signed_in_at_origin(browser, stack, person, "/app/settings")
    try:
        for path in (
            "/app/console/",
            "/app/console/health",
            "/app/console/dead-letters",
            "/app/console/audit",
        ):
            response = await page.goto(f"{origin(stack)}{path}")
            assert response is not None
            assert response.status == 403
            # The refusal page, in the person's language.
            await expect(page.locator("h1")).to_have_text(re.compile("ทำรายการไม่ได้|Not possible"))
        for fragment in ("notifier/outbox", "notifier/dead-letters", "notifier/audit"):
            refused = await page.request.get(f"{origin(stack)}/app/console/{fragment}")
            assert refused.status == 403
        # Nor may they replay anything, whatever token they send.
        for change in ("/app/console/dead-letters/replay", "/app/console/notifier/replay"):
            refused = await page.request.post(
                f"{origin(stack)}{change}", headers={"X-CSRF-Token": "x"}, form={"x": "1"}
            )
            assert refused.status == 403
        # Nor does the navigation offer it.
        await page.goto(f"{origin(stack)}/app/settings")
        await expect(page.locator('nav a[href="/app/console/"]')).to_have_count(0)
    finally:
        await page.context.close()


async def test_a_hospitals_key_gets_403_on_the_operator_fragments(app_url: str) -> None:
    telemedicine_url = f"http://127.0.0.1:{SERVICE_PORTS['telemedicine']}"
    fragments = [
        (NOTIFIER_URL, "/app/console/notifier/outbox"),
        (NOTIFIER_URL, "/app/console/notifier/dead-letters"),
        (NOTIFIER_URL, "/app/console/notifier/audit"),
        (telemedicine_url, "/app/console/telemedicine/outbox"),
    ]
    for base, path in fragments:
        async with httpx.AsyncClient(base_url=base) as client:
            refused = await client.get(path, headers=as_hospital("trang-hospital"))
            assert refused.status_code == 403
    async with httpx.AsyncClient(base_url=NOTIFIER_URL) as client:
        replay = await client.post(
            "/app/console/notifier/replay",
            data={"delivery": "any"},
            headers=as_hospital("trang-hospital"),
        )
    assert replay.status_code == 403
