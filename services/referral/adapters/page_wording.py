"""What the domain says in codes and parameters, in the words of a page's language: the routing
engine's reasons (domain/routing_reasons.py) and the refusals of a person's action (a
DomainError's sentence and parameters). The sentences are message ids of the web app's
catalogues (services/referral/locale); the parameters are filled in after translation."""

from __future__ import annotations

from collections.abc import Callable

from services.referral.domain.errors import NoDestination
from services.referral.domain.routing_reasons import RoutingReason
from shared.errors import DomainError

Translate = Callable[[str], str]


def routing_reason(reason: RoutingReason | str, translate: Translate) -> str:
    """A reason in the page's language; a stored sentence from before reasons had codes stays
    as it was written."""
    return reason if isinstance(reason, str) else reason.worded(translate)


def refusal(problem: DomainError | str, translate: Translate) -> str:
    """Why a person's action was refused, in the page's language: the refusal's sentence
    translated, then its parameters (the routing engine's reasons, each translated)."""
    if isinstance(problem, str):
        return translate(problem)
    if isinstance(problem, NoDestination):
        reasons = "; ".join(reason.worded(translate) for reason in problem.reasons)
        return translate(problem.template) % {"reasons": reasons}
    return (
        translate(problem.template) % problem.params
        if problem.params
        else translate(problem.template)
    )
