"""In a real browser, at the one origin people use (the test stack's nginx), against the real
stack: the hub doctor finds the consult in the queue, accepts it, starts the video and joins the
room with a token for that room only; a "give" with an absolute exclusion is refused, a sound
one signed and then amended (both versions kept); the spoke's nurse, whose page was open all
along, sees each version arrive without a reload and confirms the needle, which the referral
records in her name."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from playwright.async_api import Browser, Locator, Page, Route, expect

from services.telemedicine.config import DEVELOPMENT_VIDEO_SECRET
from services.telemedicine.domain.thrombolysis_checklist import CHECKLIST, INCLUSIONS
from tests.browser.conftest import Person
from tests.e2e.harness import TELEMEDICINE_URL, consult_of
from tests.support import TestStack, as_hospital, eventually, referral_bundle

pytestmark = pytest.mark.browser

HUB = "trang-hospital"
VIDEO_HOST = "meet.fasttrack.example"
LIVE = 20_000  # ms: a busy 2-core machine is slow, but nothing here waits for a reload

OpenPage = Callable[[Person, str], Awaitable[Page]]


@pytest.fixture
async def open_page(browser: Browser, stack: TestStack) -> AsyncIterator[OpenPage]:
    """A phone-sized page at the one origin, signed in, on ``path``, marked so a reload
    shows."""
    origin = f"http://127.0.0.1:{stack.proxy_port}"
    contexts = []

    async def opened(person: Person, path: str) -> Page:
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        contexts.append(context)
        page = await context.new_page()
        await page.goto(f"{origin}/app/login?{urlencode({'next': path})}")
        await page.locator("#username").fill(person.username)
        await page.locator("#password").fill(person.password)
        async with page.expect_navigation():
            await page.locator("form[action='/app/login'] button[type=submit]").click()
        assert urlsplit(page.url).path == path, page.url
        await page.evaluate("window.notReloaded = true")
        return page

    yield opened
    for context in contexts:
        await context.close()


async def _consult_asked_of_the_hub(referral_api: httpx.AsyncClient) -> tuple[str, str]:
    """A referral from Sikao to Trang asking for a teleconsult: (referral id, consult id)."""
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    sent = await referral_api.post(
        "/fhir/$process-message", json=bundle, headers={"Content-Type": "application/fhir+json"}
    )
    assert sent.status_code == 200, sent.text
    consult = await consult_of(referral_id, HUB)
    return referral_id, str(consult["id"])


async def _fill_recommendation(page: Page, **choices: str) -> None:
    form = page.locator("#recommendation-form")
    await form.locator("[name=systolic_mmhg]").fill("165")
    await form.locator("[name=diastolic_mmhg]").fill("92")
    await form.locator("[name=weight_kg]").fill("60")
    await form.locator("[name=glucose_mg_dl]").fill("120")
    await form.locator("[name=haemorrhage]").select_option("no")
    for code in CHECKLIST:
        await form.locator(f'[name="check-{code}"]').select_option(
            "yes" if code in INCLUSIONS else "no"
        )
    for name, value in choices.items():
        field = form.locator(f"[name={name}]")
        if await field.evaluate("(element) => element.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)


def step_button(page: Page, stage: str) -> Locator:
    """A step's button (the pages are in the person's language: found by what it sends)."""
    return page.locator(f'form:has(input[name=stage][value="{stage}"]) button')


async def not_reloaded(page: Page) -> bool:
    return bool(await page.evaluate("window.notReloaded === true"))


async def test_the_consultant_answers_from_the_pages_and_the_spoke_sees_it_live_and_confirms(
    open_page: OpenPage,
    referral_api: httpx.AsyncClient,
    hub_doctor: Person,
    spoke_nurse: Person,
    app_url: str,
) -> None:
    referral_id, consult_id = await _consult_asked_of_the_hub(referral_api)
    page_path = f"/app/consults/{consult_id}"

    # The hub doctor's queue lists it; the consult page opens from it.
    hub = await open_page(hub_doctor, "/app/consults/")
    await hub.locator(f'[data-consult="{consult_id}"] a').first.click()
    await expect(hub).to_have_url(re.compile(re.escape(page_path) + "$"))
    # The spoke's nurse keeps its view of the consult open from here on.
    spoke = await open_page(spoke_nurse, page_path)
    await expect(spoke.locator("#stage")).to_have_text(re.compile("paging|requested"))
    await expect(spoke.locator('[data-action="confirm-needle"]')).to_have_count(0)

    await step_button(hub, "accepted").click()
    await expect(hub.locator("#stage")).to_have_text("accepted")
    await step_button(hub, "in-video").click()
    await expect(hub.locator("#stage")).to_have_text("in-video")

    # The video room: a join token of the doctor's own, for this consult's room only.
    # (The room's address is read as the join answers: the test has no video server to open.)
    join_links: list[str] = []

    async def into_the_room(route: Route) -> None:
        answer = await route.fetch(max_redirects=0)
        join_links.append(answer.headers["location"])
        await route.fulfill(status=200, content_type="text/html", body="<p>video room</p>")

    await hub.route("**/join", into_the_room)
    await hub.locator('form[action$="/join"] button').click()
    await expect(hub.locator("p")).to_have_text("video room")
    (join_link,) = join_links
    room_url = urlsplit(join_link)
    assert room_url.hostname == VIDEO_HOST
    token = parse_qs(room_url.query)["jwt"][0]
    claims = jwt.decode(token, DEVELOPMENT_VIDEO_SECRET, algorithms=["HS256"], audience="jitsi")
    assert room_url.path == f"/{claims['room']}"
    assert claims["context"]["user"]["id"].startswith("Practitioner/")
    assert claims["context"]["user"]["moderator"] is True
    _, other_consult = await _consult_asked_of_the_hub(referral_api)
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as api:
        await api.post(
            f"/consults/{other_consult}/steps",
            json={"stage": "accepted", "by": "Practitioner/dr-other"},
        )
        other = (await api.post(f"/consults/{other_consult}/join", json={"by": "dr-other"})).json()
    assert other["room"] != claims["room"]
    await hub.go_back()

    # A "give" with an absolute exclusion ticked is refused: nothing signed.
    await _fill_recommendation(hub, decision="give", drug="alteplase")
    await hub.locator('[name="check-intracranial-haemorrhage"]').select_option("yes")
    await hub.locator("#recommendation-form button[type=submit]").click()
    await expect(hub.locator("#refusal")).to_contain_text("absolute exclusion")
    await expect(hub.locator("#advice .recommendation")).to_have_count(0)

    await _fill_recommendation(hub, decision="give", drug="alteplase")
    await hub.locator("#recommendation-form button[type=submit]").click()
    await expect(hub.locator("#stage")).to_have_text("recommended")
    await expect(hub.locator('#advice [data-version="1"]')).to_contain_text("54.0 mg")

    # The spoke's open page shows the signed advice without a reload, and the needle to confirm.
    await expect(spoke.locator('#advice [data-version="1"]')).to_contain_text(
        "54.0 mg", timeout=LIVE
    )
    confirm = spoke.locator('[data-action="confirm-needle"] button')
    await expect(confirm).to_be_visible(timeout=LIVE)
    assert await not_reloaded(spoke)

    # An amendment is a second version beside the first, and reaches the spoke live too.
    await _fill_recommendation(
        hub,
        decision="give",
        drug="alteplase",
        thrombectomy_transfer="yes",
        target_centre="songklanagarind-hospital",
    )
    await hub.locator("#recommendation-form button[type=submit]").click()
    await expect(hub.locator("#advice .recommendation")).to_have_count(2)
    await expect(spoke.locator('#advice [data-version="2"]')).to_contain_text(
        "songklanagarind-hospital", timeout=LIVE
    )
    await expect(spoke.locator('#advice [data-version="1"]')).to_contain_text("54.0 mg")
    assert await not_reloaded(spoke)

    await spoke.locator('[data-action="confirm-needle"] button').click()
    await expect(spoke.locator("#needle-confirmed")).to_be_visible()

    async def needle() -> list[dict[str, Any]]:
        timeline = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
        return [e for e in timeline if e["detail"].get("milestone") == "needle"]

    (recorded,) = await eventually(needle, what="the needle on the referral's timeline")
    assert recorded["detail"]["recorded_by"] == (
        f"{spoke_nurse.display_name} ({spoke_nurse.username})"
    )
