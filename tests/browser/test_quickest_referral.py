"""A complete referral from a phone with the fewest interactions the form allows: the quickest
path (bench/referral_form_klm.py, QUICKEST_REFERRAL) performed in Chromium at 390 px, in Thai,
tap by tap and key by key. It must stay within a bound of taps and keys, and what it sends must be
a complete referral. The counts go to tests/browser/artifacts/quickest-referral.json, from which
``python -m bench.referral_form_klm`` estimates the time a person needs (no timing here)."""

from __future__ import annotations

import json
import math
import re

import asyncpg
import pytest
from playwright.async_api import Page, expect

from bench.referral_form_klm import COUNTS, QUICKEST_REFERRAL
from tests.browser.conftest import Person, sign_in

pytestmark = pytest.mark.browser

# What the quickest path may cost: one tap per fact the referral carries (hospital number, last
# known well, two FAST signs, NIHSS, two pressures, glucose, anticoagulant, CT, LVO) and one to
# send; the keys of the numbers typed. More means the form grew a step.
MOST_TAPS = 12
MOST_KEYSTROKES = 20


async def test_a_complete_referral_takes_twelve_taps_and_the_numbers_typed(
    phone: Page, app_url: str, database: asyncpg.Pool, spoke_nurse: Person
) -> None:
    await sign_in(phone, spoke_nurse, next_path="/app/referrals/new")
    form_top = await phone.evaluate(
        "document.querySelector('#referral-form').getBoundingClientRect().top + window.scrollY"
    )
    send_bottom = await phone.evaluate(
        "document.querySelector('button.send').getBoundingClientRect().bottom + window.scrollY"
    )
    viewport = await phone.evaluate("window.innerHeight")
    taps = keystrokes = 0
    for step in QUICKEST_REFERRAL:
        if step.kind == "send":
            # What the nurse reads before sending: the recommended hospital.
            await expect(phone.locator("#recommended")).not_to_be_empty(timeout=15_000)
        await phone.locator(step.target).tap()
        taps += 1
        if step.keys:
            await phone.keyboard.type(step.keys)
            keystrokes += len(step.keys)

    await expect(phone).to_have_url(re.compile(r"/app/referrals/[0-9a-f-]{36}$"))
    # Complete: every fact the form asks for arrived, as the page and the database hold it.
    await expect(phone.locator(".patient")).to_contain_text("6501234")
    await expect(phone.locator(".patient")).to_contain_text("NIHSS 11")
    await expect(phone.locator("#since-lkw")).to_have_text(re.compile(r"^0:3\d$"))
    for shown in ("176/98 mmHg", "131 mg/dL"):
        await expect(phone.locator(".findings")).to_contain_text(shown)
    stored = await database.fetchrow(
        "SELECT nihss, suspected_lvo, assessment FROM referral.referral WHERE id = $1",
        phone.url.rsplit("/", 1)[-1],
    )
    assert stored is not None
    assert (stored["nihss"], stored["suspected_lvo"]) == (11, True)
    assessment = json.loads(stored["assessment"])
    assert set(assessment) >= {"fast_signs", "systolic_bp", "glucose_mg_dl", "anticoagulant", "ct"}
    assert taps <= MOST_TAPS, f"{taps} taps"
    assert keystrokes <= MOST_KEYSTROKES, f"{keystrokes} keys"
    COUNTS.parent.mkdir(parents=True, exist_ok=True)
    screens = math.ceil((send_bottom - form_top) / viewport)
    COUNTS.write_text(
        json.dumps({"taps": taps, "keystrokes": keystrokes, "screens": screens}) + "\n",
        encoding="utf-8",
    )
