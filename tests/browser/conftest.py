"""A headless Chromium (Debian's package, driven by Playwright; no browser download), on a
phone-sized screen: clinicians open these pages on their phones."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, async_playwright, expect

from services.referral.accounts import DEVELOPMENT_PASSWORD, DEVELOPMENT_PEOPLE
from services.referral.domain.accounts import Role
from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses

# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# closed network refuses; as root it needs --no-sandbox.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is missing: deploy/local/ensure-tools.sh installs it (apt chromium)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="th-TH"
    )
    page = await context.new_page()
    yield page
    await context.close()


# People of the demo directory, seeded by the stack fixture (`accounts seed-dev`), with the
# development password: Sikao refers (a spoke), Trang receives (the hub), Kantang is a third
# hospital with no part in their referrals.
@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    hospital_id: str | None
    role: Role
    password: str = DEVELOPMENT_PASSWORD


def _seeded(username: str) -> Person:
    seeded = next(p for p in DEVELOPMENT_PEOPLE if p.username == username)
    return Person(seeded.username, seeded.display_name, seeded.hospital_id, seeded.role)


REFERRAL_APP_URL = f"http://127.0.0.1:{SERVICE_PORTS['referral']}"


@pytest.fixture(scope="session")
def app_url(services: ServiceProcesses) -> str:
    """The web app's base URL (the referral service, started for the session)."""
    return REFERRAL_APP_URL


@pytest.fixture
def spoke_nurse() -> Person:
    return _seeded("nurse.sikao")


@pytest.fixture
def spoke_doctor() -> Person:
    return _seeded("doctor.sikao")


@pytest.fixture
def hub_doctor() -> Person:
    return _seeded("doctor.trang")


@pytest.fixture
def hub_nurse() -> Person:
    return _seeded("nurse.trang")


@pytest.fixture
def third_hospital_doctor() -> Person:
    return _seeded("doctor.kantang")


@pytest.fixture
def hub_admin() -> Person:
    return _seeded("admin.trang")


@pytest.fixture
def spoke_admin() -> Person:
    return _seeded("admin.sikao")


@pytest.fixture
def operator() -> Person:
    return _seeded("operator")


async def sign_in(
    page: Page, person: Person, *, next_path: str | None = None, origin: str = REFERRAL_APP_URL
) -> None:
    """Signs ``page`` in as ``person`` through the sign-in form at ``origin`` (the web app
    itself, or the proxy's one origin); returns on the page after it (``next_path``, or the
    person's home)."""
    query = f"?{urlencode({'next': next_path})}" if next_path else ""
    await page.goto(f"{origin}/app/login{query}")
    await page.locator("#username").fill(person.username)
    await page.locator("#password").fill(person.password)
    async with page.expect_navigation():
        await page.locator("form[action='/app/login'] button[type=submit]").click()
    if "/app/login" in page.url:
        raise AssertionError(f"{person.username} could not sign in: {page.url}")


@pytest.fixture
async def desktop(browser: Browser) -> AsyncIterator[Page]:
    """A ward computer's screen (1280 px), in Thai like the phone."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="th-TH")
    page = await context.new_page()
    yield page
    await context.close()


# How long a live page may take to show a change (ms): a busy 2-core machine is slow, but
# nothing waits for a reload.
LIVE_MS = 20_000

OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[OpenPage]:
    """Opens a page at 390 px for a signed-in person (a phone of their own), marked so that a
    reload would show (``not_reloaded``); with ``live`` (the default) once its live stream is
    connected."""
    contexts: list[BrowserContext] = []

    async def opened(person: Person, path: str, *, live: bool = True) -> Page:
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        contexts.append(context)
        page = await context.new_page()
        await sign_in(page, person, next_path=path)
        if live:
            await expect(page.locator("body")).to_have_attribute("data-live", "connected")
        await page.evaluate("window.notReloaded = true")
        return page

    yield opened
    for context in contexts:
        await context.close()


def card_of(page: Page, referral_id: str) -> Locator:
    """A referral's card on a board or list (an id may hold dots: no "#" selector)."""
    return page.locator(f'[id="referral-{referral_id}"]')


async def not_reloaded(page: Page) -> bool:
    return bool(await page.evaluate("window.notReloaded === true"))


OpenLink = Callable[[str, Person], Awaitable[Page]]


@pytest.fixture
async def open_after_sign_in(browser: Browser) -> AsyncIterator[OpenLink]:
    """Opens a link (a notification's) on a phone with no session: the sign-in page comes first,
    then straight the linked page. Its context closes at the test's end: a page left open keeps
    its live stream, and the service's shutdown waits for every open stream (20 s, then killed)."""
    contexts: list[BrowserContext] = []

    async def opened(link: str, person: Person) -> Page:
        context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        contexts.append(context)
        page = await context.new_page()
        await page.goto(link)
        await expect(page).to_have_url(re.compile(r"/app/login\?next="))
        await page.locator("#username").fill(person.username)
        await page.locator("#password").fill(person.password)
        await page.locator("form[action='/app/login'] button[type=submit]").click()
        await expect(page).to_have_url(link)
        return page

    yield opened
    for context in contexts:
        await context.close()
