"""Schema-driven fuzzing of the three services' HTTP APIs (schemathesis over each app's OpenAPI
document, against the running services with a hospital's key): whatever it sends, no answer is a
server error. Bounded: FT_FUZZ_EXAMPLES examples per operation (default 15) so the suite stays
fast; raise it for a longer run (the README quotes one)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from services.notifier.bootstrap import create_app as notifier_app
from services.referral.bootstrap import create_app as referral_app
from services.telemedicine.bootstrap import create_app as telemedicine_app
from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses
from tests.support import as_hospital

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("FT_FUZZ_EXAMPLES", "15"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
# A live event stream answers for as long as the client listens: not a request/response.
STREAMS = ["/live/events", "/live"]

referral_api = schemathesis.openapi.from_dict(referral_app().openapi())
notifier_api = schemathesis.openapi.from_dict(notifier_app().openapi()).exclude(path=STREAMS)
telemedicine_api = schemathesis.openapi.from_dict(telemedicine_app().openapi())


def _no_server_error(service: str, case: Any) -> None:
    response = case.call(
        base_url=f"http://127.0.0.1:{SERVICE_PORTS[service]}",
        headers=as_hospital("sikao-hospital"),
        timeout=20,
    )
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )


@referral_api.parametrize()
@FUZZ
def test_the_referral_api_never_answers_with_a_server_error(
    case: Any, services: ServiceProcesses
) -> None:
    _no_server_error("referral", case)


@notifier_api.parametrize()
@FUZZ
def test_the_notifier_api_never_answers_with_a_server_error(
    case: Any, services: ServiceProcesses
) -> None:
    _no_server_error("notifier", case)


@telemedicine_api.parametrize()
@FUZZ
def test_the_telemedicine_api_never_answers_with_a_server_error(
    case: Any, services: ServiceProcesses
) -> None:
    _no_server_error("telemedicine", case)
