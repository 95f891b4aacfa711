"""Consult first to a hospital the network's directory does not list: refused before anyone is
paged (a misspelt hub would page nobody's consultant and wait out the whole ladder). With no
directory received yet, nothing is refused for it."""

from __future__ import annotations

import pytest

from services.telemedicine.domain.first_consult import (
    Hub,
    HubDirectory,
    UnknownHub,
    check_consultant_known,
)
from shared.errors import InvalidInput

DIRECTORY = HubDirectory(
    {
        "trang-hospital": Hub(id="trang-hospital", name="Trang Hospital", stroke_hub=True),
        "sikao-hospital": Hub(id="sikao-hospital", name="Sikao Hospital"),
    }
)


def test_a_hospital_the_directory_lists_may_be_asked() -> None:
    check_consultant_known("trang-hospital", DIRECTORY)
    check_consultant_known("sikao-hospital", DIRECTORY)


@pytest.mark.parametrize("typo", ["trnag-hospital", "Trang-hospital", "trang-hospital.", "trang"])
def test_a_hospital_the_directory_does_not_list_is_refused_naming_the_hub_field(typo: str) -> None:
    with pytest.raises(UnknownHub) as refused:
        check_consultant_known(typo, DIRECTORY)
    # An invalid request (4xx OperationOutcome on REST, fatal-error on Kafka) at Task.owner.
    assert isinstance(refused.value, InvalidInput)
    assert refused.value.expression == "Task.owner"
    assert typo in refused.value.reason


def test_without_a_directory_received_no_hub_is_refused() -> None:
    assert not HubDirectory().received
    check_consultant_known("trnag-hospital", HubDirectory())
