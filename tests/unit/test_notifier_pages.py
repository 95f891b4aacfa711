"""The notifier's pages come from templates: what an alert says is shown as text, never as
markup, and only a web link is offered to open."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifier.bootstrap import SERVICE_DIR, STATIC_PATH
from services.notifier.domain.model import Acknowledgement, Channel, Delivery
from services.notifier.entrypoints.acknowledgement_links import page_context
from shared.pages import page_templates
from shared.province_time import PROVINCE_ZONE_NAME

PAGES = page_templates(SERVICE_DIR / "templates", static_path=STATIC_PATH)


def _delivery(text: str, link: str) -> Delivery:
    return Delivery(
        id="0b7c4f2e-5d1a-5c3e-9f60-2a4d8e1b7c90",
        request_id="m-1/cr-1",
        referral_id="ref-1",
        recipient="Practitioner/dr-anan",
        channel=Channel.SMS,
        priority="stat",
        body={"text": text, "link": link, "needs_ack": True},
    )


def _render(context: dict[str, object]) -> str:
    return PAGES.get_template("acknowledgement.html").render(context)


def test_an_alert_text_is_shown_as_text_not_markup() -> None:
    page = _render(page_context(_delivery('<script>alert("x")</script>', ""), None))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert '<form method="post">' in page


@pytest.mark.parametrize(
    ("link", "offered"),
    [
        ("https://ft.example/referrals/ref-1", True),
        ("http://127.0.0.1:8001/referrals/ref-1", True),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_only_a_web_link_is_offered_to_open_the_referral(link: str, offered: bool) -> None:
    page = _render(page_context(_delivery("Stroke referral", link), None))
    assert ("Open the referral" in page) is offered
    assert "javascript:" not in page


def test_an_acknowledged_alert_says_when_in_bangkok_time_and_by_whom() -> None:
    state = Acknowledgement(datetime(2026, 11, 30, 1, 5, tzinfo=UTC), "link:Practitioner/dr-anan")
    page = _render(page_context(_delivery("Stroke referral", ""), state))
    assert "Acknowledged (08:05, 30 Nov 2026, link:Practitioner/dr-anan)" in page
    assert "<form" not in page


def test_a_refused_link_shows_why_and_no_button() -> None:
    page = _render(page_context(None, None, error="ลิงก์ไม่ถูกต้อง / This link is not valid."))
    assert "This link is not valid." in page
    assert "<form" not in page


def test_the_live_page_loads_its_script_and_style_from_the_service_itself() -> None:
    page = PAGES.get_template("live.html").render()
    # Under the notifier's own prefix: behind the one origin, /static/ is the web app's.
    assert '<script src="/static/notifier/live.js"></script>' in page
    assert '<link rel="stylesheet" href="/static/notifier/pages.css">' in page
    assert (SERVICE_DIR / "static" / "live.js").is_file()


def test_the_live_page_tells_its_script_the_province_zone_defined_once_on_the_server() -> None:
    page = PAGES.get_template("live.html").render()
    assert f'data-zone="{PROVINCE_ZONE_NAME}"' in page
    script = (SERVICE_DIR / "static" / "live.js").read_text()
    assert PROVINCE_ZONE_NAME not in script
    assert "timeZone: zone" in script
