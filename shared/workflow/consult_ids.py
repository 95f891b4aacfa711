"""Ids of a referral's teleconsult and of its pages, which two services compute alike: the
referral service sends the consult's first page, telemedicine opens the consult and pages the
rest of its ladder (shared/consult_paging.py). Plain rules, no I/O."""

from __future__ import annotations

from shared.fhir.ids import derived_id

# The ladder's first rung (telemedicine's domain/escalation.py: Rung.ON_CALL).
ON_CALL_RUNG = 0


def referral_consult_id(referral_id: str) -> str:
    """The teleconsult of a referral: the same id whoever computes it."""
    return derived_id("tc-", referral_id)


def page_request_id(consult_id: str, rung: int) -> str:
    """The CommunicationRequest id of the page of ``rung`` for a consult."""
    return derived_id(f"cp{rung}-", consult_id)


def role_reference(hub: str, role: str) -> str:
    """A hub's role as the notifier's directory names it (whom a page of the ladder pages)."""
    return f"PractitionerRole/{hub}.{role}"
