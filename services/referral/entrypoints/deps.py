"""What the referral service's routes depend on: typed ``Annotated`` dependencies and the checks
every route shares. Route modules import this module, never one another."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.templating import Jinja2Templates

from services.referral.adapters.fhir_search import BadSearch
from services.referral.container import ReferralContainer
from services.referral.domain.errors import NotAParty
from services.referral.domain.model import Referral
from services.referral.service.context import ReferralContext
from shared.runtime import container_dependency
from shared.web import FhirResponse, outcome_response

ReferralContainerDep = Annotated[
    ReferralContainer, Depends(container_dependency(ReferralContainer))
]


def get_context(container: ReferralContainerDep) -> ReferralContext:
    return container.context


ContextDep = Annotated[ReferralContext, Depends(get_context)]


def get_pages(container: ReferralContainerDep) -> Jinja2Templates:
    return container.pages


PagesDep = Annotated[Jinja2Templates, Depends(get_pages)]


def fhir_base_url(context: ReferralContext) -> str:
    """The FHIR base URL the network publishes (FT_REFERRAL_PUBLIC_URL + /fhir)."""
    return context.source_endpoint.rstrip("/")


def ensure_party(referral: Referral, caller: str) -> None:
    """A hospital sees only the referrals it sends or receives."""
    if caller not in (referral.requester_org, referral.owner_org):
        raise NotAParty("This referral is between other hospitals")


def refused_search(bad: BadSearch) -> FhirResponse:
    """A search the server will not run: 400 with the OperationOutcome naming the parameter."""
    return outcome_response(400, bad.reason, code=bad.issue_code, expression=bad.expression)
