"""The whole spoke-hub exchange in a real browser, against the real stack, as issue 11 tells it:
the spoke's nurse refers a patient from a phone (390 px) in Thai; the hub doctor's open board shows
it without a reload, and the doctor acknowledges and accepts it; the spoke's open referral page
changes live; the hub taps door-in and needle and the metrics follow; the notification's link
opens the referral page after signing in; a third hospital sees nothing of it, on its pages,
through the API or on its live stream."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from bench.referral_form_klm import QUICKEST_REFERRAL
from tests.browser.conftest import (
    LIVE_MS,
    OpenLink,
    OpenPage,
    Person,
    card_of,
    not_reloaded,
)
from tests.e2e.harness import WebhookReceiver, post_referral_to
from tests.support import as_hospital, at_least, eventually

pytestmark = pytest.mark.browser

HUB, THIRD = "trang-hospital", "kantang-hospital"

# Collects, on a page, the referrals its own live stream (/app/events) tells it about.
LISTEN = """() => {
    window.heard = [];
    const source = new EventSource("/app/events");
    source.addEventListener("referral-changed",
        (message) => window.heard.push(JSON.parse(message.data).referral_id));
}"""


async def _refer_from_the_form(phone: Page) -> str:
    """The spoke nurse's quickest complete referral, sent to the hub; the new referral's id."""
    for step in QUICKEST_REFERRAL:
        if step.kind == "send":
            await phone.locator("#owner").select_option(HUB)
            await expect(phone.locator("#recommended")).not_to_be_empty(timeout=15_000)
        await phone.locator(step.target).tap()
        if step.keys:
            await phone.keyboard.type(step.keys)
    await expect(phone).to_have_url(re.compile(r"/app/referrals/[0-9a-f-]{36}$"))
    return phone.url.rsplit("/", 1)[-1]


async def test_a_spoke_refers_the_hub_answers_and_treats_and_a_third_hospital_sees_nothing(
    open_page: OpenPage,
    open_after_sign_in: OpenLink,
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
    spoke_nurse: Person,
    hub_doctor: Person,
    third_hospital_doctor: Person,
) -> None:
    board = await open_page(hub_doctor, "/app/board")
    third = await open_page(third_hospital_doctor, "/app/board")
    await third.evaluate(LISTEN)

    # The spoke's nurse, on a phone in Thai.
    spoke = await open_page(spoke_nurse, "/app/referrals/new", live=False)
    await expect(spoke.locator("html")).to_have_attribute("lang", "th")
    referral_id = await _refer_from_the_form(spoke)
    await expect(spoke.locator("body")).to_have_attribute("data-live", "connected")
    await spoke.evaluate("window.notReloaded = true")

    # The hub's open board shows it, highlighted; the doctor acknowledges and accepts.
    card = card_of(board, referral_id)
    await expect(card).to_be_visible(timeout=LIVE_MS)
    await expect(card).to_have_class(re.compile(r"\battention\b"))
    await card.locator("button.acknowledge").tap()
    await expect(card).not_to_have_class(re.compile(r"\battention\b"), timeout=LIVE_MS)
    await card.locator("button.accept").tap()
    await expect(card).to_have_attribute("data-status", "accepted", timeout=LIVE_MS)
    assert await not_reloaded(board)

    # The spoke's page changes live: accepted, and who saw it on the timeline.
    await expect(spoke.locator(".status.status-accepted")).to_be_visible(timeout=LIVE_MS)
    await expect(spoke.locator(".timeline")).to_contain_text(hub_doctor.display_name)

    # The hub taps door-in and needle on the referral page; the metrics follow, on both pages.
    hub_page = await board.context.new_page()
    await hub_page.goto(board.url.replace("/app/board", f"/app/referrals/{referral_id}"))
    milestones = hub_page.locator(".milestones")
    await milestones.get_by_role("button", name=re.compile("^ถึงโรงพยาบาล")).tap()
    await expect(milestones.locator("li.is-set", has_text="ถึงโรงพยาบาล")).to_be_visible()
    await milestones.get_by_role("button", name=re.compile("^ให้ยาละลายลิ่มเลือด")).tap()
    await expect(hub_page.locator("[data-metric=hub-door-to-needle]")).to_contain_text("0:00")
    await expect(spoke.locator("[data-metric=hub-door-to-needle]")).to_contain_text(
        "0:00", timeout=LIVE_MS
    )
    assert await not_reloaded(spoke)

    # The link of the hub's notification opens the referral page, after signing in.
    (alert, *_) = await eventually(
        lambda: at_least(webhook.for_referral(referral_id), 1), what="the stroke team alert"
    )
    linked = await open_after_sign_in(str(alert.body["link"]), hub_doctor)
    await expect(linked.locator(".status.status-accepted")).to_be_visible()

    # A third hospital: nothing on its open board, no page, no API answer, nothing on its stream
    # (which did hear a referral of its own, sent meanwhile).
    own = await post_referral_to(referral_api, THIRD)
    await expect(card_of(third, own)).to_be_visible(timeout=LIVE_MS)
    await expect(card_of(third, referral_id)).to_have_count(0)
    heard: list[str] = await third.evaluate("window.heard")
    assert own in heard
    assert referral_id not in heard
    answer = await third.goto(third.url.replace("/app/board", f"/app/referrals/{referral_id}"))
    assert answer is not None
    assert answer.status == 404
    api = await referral_api.get(f"/referrals/{referral_id}", headers=as_hospital(THIRD))
    assert api.status_code in (403, 404)
    assert "6501234" not in api.text
