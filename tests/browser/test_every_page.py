"""Every page a person uses, at the one origin people open (the test stack's nginx), in Thai and
English, on a phone (390 px) and a ward computer (1280 px): axe-core finds no WCAG 2.1 A/AA
violation, nothing scrolls sideways on the phone, the acknowledge and milestone buttons are tap
targets of at least 44 px, and each page is photographed (tests/browser/artifacts/, or
$FT_ARTIFACTS). With FT_README_IMAGES=1 the English 1280 px referral page and hub board are also
written to docs/images/, the README's screenshots:

    FT_README_IMAGES=1 .venv/bin/python -m pytest tests/browser/test_every_page.py -k en-1280
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from services.referral.adapters import passwords
from services.referral.domain.accounts import Role
from tests.browser.accessibility import axe_violations, screenshot
from tests.browser.conftest import Person, sign_in
from tests.e2e.harness import SERVICE_PORTS, post_referral_to, texts_about
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import ROOT, TestStack, as_hospital, eventually, referral_bundle

pytestmark = pytest.mark.browser

SPOKE, HUB, THIRD = "sikao-hospital", "trang-hospital", "kantang-hospital"
README_IMAGES = {"referral-page": "referral-page.png", "hub-board": "hub-board.png"}
TAP_TARGET_PX = 44
# Pages with no person's language setting to follow: the notifier's speak Thai and English at
# once (a ward screen, an SMS link); a patient's check-in form is in Thai.
NO_SETTING = frozenset({"live-alerts", "acknowledgement", "check-in-form"})
# The page's own words (not names or other data a person wrote): on an English page, no Thai.
OWN_WORDS = "h1, h2, nav, label, legend, button, th, .lkw, .facts, .status, .badge"
THAI_IN_OWN_WORDS = """(selector) => [...document.querySelectorAll(selector)].map((element) => {
    const words = element.cloneNode(true);
    words.querySelectorAll("[lang]").forEach((other) => other.remove());
    return words.textContent.replace(/\\s+/g, " ").trim();
}).filter((text) => /[\\u0E00-\\u0E7F]/.test(text))"""
TELEMEDICINE_URL = f"http://127.0.0.1:{SERVICE_PORTS['telemedicine']}"


@dataclass(frozen=True)
class Tour:
    """What the pages show: a referral to the hub with a teleconsult (its page, its consult),
    and an SMS acknowledgement link of a referral to the hospital whose on-call doctor gets SMS."""

    referral_id: str
    consult_id: str
    acknowledgement_path: str
    # A home-isolation episode of the spoke, and its patient's check-in link (its path).
    episode_id: str
    check_in_path: str


@dataclass(frozen=True)
class Visit:
    name: str
    who: str | None  # a key of PEOPLE; None: nobody signed in
    path: str
    # Buttons that must be tap targets of TAP_TARGET_PX on a phone (CSS selector).
    tap_targets: str | None = None


VISITS = [
    Visit("sign-in", None, "/app/login?lang={language}"),
    Visit("new-referral", "spoke-nurse", "/app/referrals/new"),
    Visit("spoke-list", "spoke-nurse", "/app/referrals"),
    Visit("settings", "spoke-nurse", "/app/settings"),
    Visit("referral-page", "hub-doctor", "/app/referrals/{referral}", ".milestones button.tap"),
    Visit("hub-board", "hub-doctor", "/app/board", "button.acknowledge"),
    Visit("kpi", "hub-doctor", "/app/kpi"),
    Visit("live-alerts", "hub-doctor", "/app/live", "#alerts button"),
    Visit("consult-queue", "hub-doctor", "/app/consults/"),
    Visit("consult-page", "hub-doctor", "/app/consults/{consult}"),
    Visit("consult-ask-first", "spoke-nurse", "/app/consults/new", "#ask-first button"),
    Visit("admin-users", "hub-admin", "/app/admin/users"),
    Visit("monitoring-board", "spoke-nurse", "/app/monitoring/"),
    Visit("monitoring-episode", "spoke-nurse", "/app/monitoring/{episode}"),
    Visit("monitoring-enrol", "spoke-nurse", "/app/monitoring/enrol"),
    Visit("check-in-form", None, "{check_in}", "button[type=submit]"),
    Visit("acknowledgement", None, "{acknowledgement}", "button.ack"),
]

# People of their own for the tour (a language each), so no other test's person changes.
PEOPLE = {
    "spoke-nurse": (SPOKE, Role.NURSE, {"th": "พยาบาลพิมพ์ สิเกา", "en": "Nurse Pim Sikao"}),
    "hub-doctor": (HUB, Role.DOCTOR, {"th": "นพ.ก้อง ตรัง", "en": "Dr. Kong Trang"}),
    "hub-admin": (HUB, Role.HOSPITAL_ADMIN, {"th": "ผู้ดูแล ตรัง", "en": "Admin Trang"}),
}


def _person(who: str, language: str) -> Person:
    hospital, role, names = PEOPLE[who]
    return Person(f"tour.{who}.{language}", names[language], hospital, role)


@pytest.fixture(scope="module")
async def tour_people(database: asyncpg.Pool) -> None:
    """Creates the tour's people once (the stack keeps them between runs)."""
    for language in ("th", "en"):
        for who in PEOPLE:
            person = _person(who, language)
            assert person.hospital_id is not None
            async with database.acquire() as connection, connection.transaction():
                await connection.execute("SET LOCAL search_path TO referral")
                await connection.execute(
                    """
                    INSERT INTO app_user (username, display_name, hospital_id, role,
                                          password_hash, language, buddhist_era)
                    VALUES ($1, $2, $3, $4, $5, $6, $6 = 'th')
                    ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name
                    """,
                    person.username,
                    person.display_name,
                    person.hospital_id,
                    person.role.value,
                    await asyncio.to_thread(passwords.hash_password, person.password),
                    language,
                )


@pytest.fixture(scope="module")
async def tour(
    referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway, tour_people: None
) -> Tour:
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    sent = await referral_api.post(
        "/fhir/$process-message", json=bundle, headers={"Content-Type": "application/fhir+json"}
    )
    assert sent.status_code == 200, sent.text

    async def consults() -> list[dict[str, Any]] | None:
        async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as api:
            found: list[dict[str, Any]] = (
                await api.get("/consults", params={"referral": referral_id})
            ).json()
        return found or None

    (consult,) = await eventually(consults, what="the teleconsult")
    alerted = await post_referral_to(referral_api, THIRD)
    (sms, *_) = await eventually(lambda: texts_about(sms_gateway, alerted), what="the SMS")
    link = re.search(r"http://[^/\s]+(/ack/\S+)", sms["text"])
    assert link is not None
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(SPOKE)) as api:
        enrolled = await api.post(
            "/monitoring/episodes",
            json={
                "patient": "Patient/tour-patient",
                "hospital_number": "HN-TOUR",
                "consultant_hospital": HUB,
            },
        )
        assert enrolled.status_code == 201, enrolled.text
        episode = enrolled.json()
        checked_in = await api.post(episode["check_in_link"], data={"spo2": "95"})
        assert checked_in.status_code == 200
    return Tour(
        referral_id,
        str(consult["id"]),
        link.group(1),
        episode["id"],
        urlsplit(episode["check_in_link"]).path,
    )


# A person's signed-in session (cookies), per person and language: signed in through the form
# at the first width, carried into the other width's browser context (as a phone and a ward
# computer of the same person would each sign in; the sign-in itself is checked once).
Sessions = dict[tuple[str, str], Any]


@pytest.fixture(scope="module")
def sessions() -> Sessions:
    return {}


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        await context.close()


async def _page_for(
    browser: Browser,
    contexts: list[BrowserContext],
    sessions: Sessions,
    signed_in: dict[str | None, Page],
    who: str | None,
    *,
    language: str,
    width: int,
    origin: str,
) -> Page:
    """One browser context per person (their session), reused for their pages."""
    if who not in signed_in:
        phone = width < 600
        session = sessions.get((who, language)) if who is not None else None
        context = await browser.new_context(
            viewport={"width": width, "height": 844 if phone else 900},
            is_mobile=phone,
            has_touch=phone,
            locale="th-TH" if language == "th" else "en-GB",
            storage_state=session,
        )
        contexts.append(context)
        page = await context.new_page()
        if who is not None and session is None:
            await sign_in(page, _person(who, language), next_path="/app/settings", origin=origin)
            sessions[who, language] = await context.storage_state()
        signed_in[who] = page
    return signed_in[who]


async def _problems_on(page: Page, visit: Visit, *, language: str, width: int) -> list[str]:
    """What is wrong with the page as it is now, in words for the test's report."""
    problems = [
        f"axe {v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:4])
        for v in await axe_violations(page)
    ]
    if language == "en" and visit.name not in NO_SETTING:
        thai: list[str] = await page.evaluate(THAI_IN_OWN_WORDS, OWN_WORDS)
        problems += [f"Thai on an English page: {text!r}" for text in thai[:5]]
    if width < 600:
        scroll: dict[str, int] = await page.evaluate(
            "() => ({page: document.documentElement.scrollWidth, view: window.innerWidth})"
        )
        if scroll["page"] > scroll["view"]:
            problems.append(f"scrolls sideways: {scroll['page']} px wide in {scroll['view']} px")
        if visit.tap_targets:
            heights: list[float] = await page.evaluate(
                "(selector) => [...document.querySelectorAll(selector)]"
                ".map((button) => button.getBoundingClientRect().height)",
                visit.tap_targets,
            )
            if not heights:
                problems.append(f"no {visit.tap_targets} to tap")
            small = [h for h in heights if h < TAP_TARGET_PX]
            if small:
                problems.append(f"{visit.tap_targets} under {TAP_TARGET_PX} px: {small}")
    return problems


async def _ready(page: Page, visit: Visit) -> None:
    """Waits for what a page fills in after loading (the route preview, the live status)."""
    if visit.name == "new-referral":
        await expect(page.locator("#recommended")).not_to_be_empty(timeout=15_000)
    elif visit.name == "live-alerts":
        await expect(page.get_by_role("status")).to_have_text(re.compile("Live"), timeout=20_000)
        await expect(page.locator("#alerts button").first).to_be_visible(timeout=20_000)
    elif visit.name in ("hub-board", "spoke-list", "referral-page"):
        await expect(page.locator("body")).to_have_attribute("data-live", "connected")


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("language", ["th", "en"])
async def test_every_page_passes_axe_fits_a_phone_and_is_photographed(
    browser: Browser,
    contexts: list[BrowserContext],
    sessions: Sessions,
    stack: TestStack,
    tour: Tour,
    language: str,
    width: int,
) -> None:
    origin = f"http://127.0.0.1:{stack.proxy_port}"
    signed_in: dict[str | None, Page] = {}
    found: dict[str, list[str]] = {}
    for visit in VISITS:
        page = await _page_for(
            browser,
            contexts,
            sessions,
            signed_in,
            visit.who,
            language=language,
            width=width,
            origin=origin,
        )
        path = visit.path.format(
            language=language,
            referral=tour.referral_id,
            consult=tour.consult_id,
            acknowledgement=tour.acknowledgement_path,
            episode=tour.episode_id,
            check_in=tour.check_in_path,
        )
        answer = await page.goto(origin + path)
        assert answer is not None
        if answer.status != 200:
            found[visit.name] = [f"answered {answer.status} at {path}"]
            continue
        await _ready(page, visit)
        if problems := await _problems_on(page, visit, language=language, width=width):
            found[visit.name] = problems
        shot = await screenshot(page, f"{visit.name}-{language}-{width}")
        readme = os.environ.get("FT_README_IMAGES") and (language, width) == ("en", 1280)
        if readme and visit.name in README_IMAGES:
            shutil.copyfile(shot, ROOT / "docs" / "images" / README_IMAGES[visit.name])
    assert not found, "\n".join(
        f"{name}: {problem}" for name, problems in found.items() for problem in problems
    )
