"""In a real browser on a phone-sized screen, against the real stack: the hub's open board shows
a new referral without a reload, highlighted until acknowledged; the hub accepts or declines it
inline and the spoke's open list changes live; a third hospital sees nothing of it."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import LIVE_MS, OpenPage, Person, card_of, not_reloaded
from tests.e2e.harness import NOTIFIER_URL, post_referral_to
from tests.support import as_hospital, eventually

pytestmark = pytest.mark.browser

HUB = "trang-hospital"
LIVE = LIVE_MS


async def _alerts_answered_on_the_board(referral_id: str) -> list[dict[str, object]] | None:
    """The hub's alerts about the referral the notifier recorded as answered on the board."""
    async with httpx.AsyncClient(base_url=NOTIFIER_URL, headers=as_hospital(HUB)) as notifier:
        log: list[dict[str, object]] = (
            await notifier.get("/deliveries", params={"referral": referral_id})
        ).json()
    answered = [d for d in log if str(d["acknowledged_by"] or "").startswith("board:")]
    return answered or None


async def no_horizontal_scrolling(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def tap_target_heights(page: Page, selector: str) -> list[float]:
    # Read in one go: the board may re-read itself between two calls.
    heights: list[float] = await page.evaluate(
        "(selector) => [...document.querySelectorAll(selector)]"
        ".map((button) => button.getBoundingClientRect().height)",
        selector,
    )
    assert heights, f"no {selector}"
    return heights


async def test_the_hub_sees_a_referral_arrive_acknowledges_and_accepts_it_and_the_spoke_sees_it(
    open_page: OpenPage,
    referral_api: httpx.AsyncClient,
    hub_doctor: Person,
    spoke_nurse: Person,
    third_hospital_doctor: Person,
) -> None:
    board = await open_page(hub_doctor, "/app/board")
    sent = await open_page(spoke_nurse, "/app/referrals")
    third = await open_page(third_hospital_doctor, "/app/board")

    referral_id = await post_referral_to(referral_api, HUB)  # the spoke's system, over FHIR

    card = card_of(board, referral_id)
    await expect(card).to_be_visible(timeout=LIVE)
    await expect(card).to_have_class(re.compile(r"\battention\b"))
    await expect(card.locator(".badge.new")).to_be_visible()
    spoke_card = card_of(sent, referral_id)
    await expect(spoke_card).to_have_attribute("data-status", "requested", timeout=LIVE)
    assert min(await tap_target_heights(board, f'[id="referral-{referral_id}"] button')) >= 44
    assert await no_horizontal_scrolling(board)
    assert await no_horizontal_scrolling(sent)
    assert await not_reloaded(board)

    await card.locator("button.acknowledge").tap()
    await expect(card).not_to_have_class(re.compile(r"\battention\b"), timeout=LIVE)
    await expect(card.locator(".seen")).to_contain_text(hub_doctor.display_name)
    await expect(card.locator("button.acknowledge")).to_have_count(0)
    # The hub's alerts about it are answered: the notifier stops repeating them.
    answered = await eventually(
        lambda: _alerts_answered_on_the_board(referral_id), what="the alerts answered"
    )
    assert {d["acknowledged_by"] for d in answered} == {f"board:{hub_doctor.display_name}"}

    await card.locator("button.accept").tap()
    await expect(card).to_have_attribute("data-status", "accepted", timeout=LIVE)
    await expect(card.locator("button.accept")).to_have_count(0)
    await expect(spoke_card).to_have_attribute("data-status", "accepted", timeout=LIVE)
    # The board's own actions swapped the board in place (htmx), as the arrivals did.
    assert await not_reloaded(board)
    assert await not_reloaded(sent)

    # The third hospital's board was open all along and heard nothing of it; nor do its lists.
    await expect(card_of(third, referral_id)).to_have_count(0)
    await third.goto(third.url.split("/app/")[0] + "/app/referrals")
    await expect(card_of(third, referral_id)).to_have_count(0)


async def test_the_hub_declines_with_a_reason_and_the_spoke_sees_the_next_hospital_asked(
    open_page: OpenPage,
    referral_api: httpx.AsyncClient,
    hub_doctor: Person,
    spoke_nurse: Person,
) -> None:
    board = await open_page(hub_doctor, "/app/board")
    sent = await open_page(spoke_nurse, "/app/referrals")
    referral_id = await post_referral_to(referral_api, HUB)
    card = card_of(board, referral_id)
    await expect(card).to_be_visible(timeout=LIVE)

    # The reason list is labelled (screen readers, and this test, find it by its label).
    reason = card.get_by_label(re.compile("Reason for declining|เหตุผล"))
    await reason.select_option("ct-unavailable")
    # Another step arrives while the doctor chooses: the board re-reads itself, the choice stays.
    async with board.expect_response(lambda r: r.url.endswith("/app/board")):
        await board.evaluate("document.body.dispatchEvent(new CustomEvent('referral-changed'))")
    await expect(reason).to_have_value("ct-unavailable")
    await card.locator("button.decline").tap()

    await expect(card).to_have_count(0, timeout=LIVE)
    declined = card_of(sent, referral_id)
    await expect(declined).to_have_count(0, timeout=LIVE)
    # The network re-routed the patient: the spoke's list shows the referral that replaced it.
    replaced_by = (await referral_api.get(f"/referrals/{referral_id}")).json()["replaced_by"]
    assert replaced_by, "the declined referral was not re-routed"
    await expect(card_of(sent, replaced_by)).to_be_visible(timeout=LIVE)
    assert await not_reloaded(sent)
