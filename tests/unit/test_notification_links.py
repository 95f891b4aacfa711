"""The link in every notification opens the referral page of the web app (at its public URL,
FT_WEB_PUBLIC_URL), not the hospital systems' JSON API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.referral.adapters.notification_texts import stroke_team_alert
from services.referral.domain.commands import RequestReferral
from services.referral.service.context import ReferralContext
from shared.fhir.models import CommunicationRequest
from shared.fhir.notifications import payload_link


@pytest.mark.parametrize(
    ("web_url", "expected"),
    [
        ("https://fasttrack.example/", "https://fasttrack.example/app/referrals/ref-1"),
        (None, "http://10.0.0.5:8001/app/referrals/ref-1"),  # the referral service serves /app
    ],
)
def test_the_referral_link_is_the_web_apps_referral_page(
    web_url: str | None, expected: str
) -> None:
    context = ReferralContext(
        source_endpoint="x", public_url="http://10.0.0.5:8001", web_url=web_url
    )
    assert context.referral_url("ref-1") == expected


def test_an_odd_referral_id_cannot_change_the_links_path() -> None:
    context = ReferralContext(source_endpoint="x", public_url="https://ft.example")
    assert context.referral_url("../admin?x=1") == (
        "https://ft.example/app/referrals/..%2Fadmin%3Fx%3D1"
    )


def test_the_stroke_teams_alert_carries_the_referral_page_link() -> None:
    context = ReferralContext(
        source_endpoint="x", public_url="http://127.0.0.1:8001", web_url="https://ft.example"
    )
    request = RequestReferral(
        referral_id="ref-9",
        request_message_id="m-9",
        requester_org="sikao-hospital",
        owner_org="trang-hospital",
        patient_hn="HN-9",
        requested_at=datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
    )
    message = stroke_team_alert(
        request,
        requester_name="Sikao",
        referral_url=context.referral_url(request.referral_id),
        source_endpoint="x",
    )
    communication = message.focus_resource(CommunicationRequest)
    assert communication is not None
    assert payload_link(communication) == "https://ft.example/app/referrals/ref-9"
