"""The notifications the referral service asks the notifier for (notification-requested): whom,
about what, the link to the referral, and the text in both languages (adapters/wording.py).
PDPA: the minimum a recipient needs; the link opens the rest."""

from __future__ import annotations

from services.referral.adapters.wording import (
    FACTS,
    NOTICES,
    SEPARATOR,
    Fact,
    Notice,
    alert_text,
    render,
)
from services.referral.domain.alerts import Alert
from services.referral.domain.commands import ReferralChange, RequestReferral
from services.referral.domain.model import Referral
from shared.fhir import codes
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.envelope import FhirMessage
from shared.fhir.ids import derived_id
from shared.fhir.notifications import notification_request_message
from shared.vocabulary.notification_categories import NotificationCategory
from shared.vocabulary.terms import Language, Term

EN, TH = Language.ENGLISH, Language.THAI


def stroke_team_alert(
    request: RequestReferral,
    *,
    requester_name: str,
    referral_url: str,
    source_endpoint: str,
) -> FhirMessage:
    """notification-requested for the receiving hospital's stroke team (PDPA: minimum data)."""
    facts: list[tuple[Term, dict[str, object]]] = [(FACTS[Fact.FROM], {"name": requester_name})]
    if request.nihss is not None:
        facts.append((FACTS[Fact.NIHSS], {"score": request.nihss}))
    if request.last_known_well is not None:
        lkw = FACTS[Fact.LKW_ESTIMATED if request.lkw_uncertain else Fact.LKW]
        facts.append((lkw, {"at": request.last_known_well}))

    def text(language: Language) -> str:
        listed = SEPARATOR[language].join(render(t, language, **f) for t, f in facts)
        notice = Notice.STROKE_PREALERT if request.prealert else Notice.STROKE_REFERRAL
        return render(NOTICES[notice], language, facts=listed)

    return notification_request_message(
        request_id=derived_id("cr-stroke-team-", request.referral_id),
        category=NotificationCategory.STROKE_ALERT,
        referral_id=request.referral_id,
        recipients=[request.owner_org],
        english=text(EN),
        thai=text(TH),
        link=referral_url,
        sender=organization_reference(request.requester_org),
        source_endpoint=source_endpoint,
    )


def status_notice(
    referral: Referral, change: ReferralChange, *, referral_url: str, source_endpoint: str
) -> FhirMessage:
    """Tells the referring hospital that its referral was accepted or declined."""
    accepted = change.event is EventCode.REFERRAL_ACCEPTED
    notice = NOTICES[Notice.ACCEPTED if accepted else Notice.DECLINED]

    def reason(language: Language) -> str:
        given = change.status_reason
        return render(FACTS[Fact.REASON], language, reason=given) if given else ""

    return requester_notice(
        referral,
        english=render(notice, EN, reason=reason(EN)),
        thai=render(notice, TH, reason=reason(TH)),
        notice_id=f"{'accepted' if accepted else 'declined'}-{change.message_id}",
        referral_url=referral_url,
        source_endpoint=source_endpoint,
    )


def rerouted_notice(
    referral: Referral,
    *,
    why: str,
    destination: str | None,
    referral_url: str,
    source_endpoint: str,
) -> FhirMessage:
    """Tells the referring hospital its patient now goes to ``destination`` (None: nowhere)."""
    notice = NOTICES[Notice.REROUTED if destination else Notice.NOT_REROUTED]
    return requester_notice(
        referral,
        english=render(notice, EN, why=why, destination=destination),
        thai=render(notice, TH, why=why, destination=destination),
        notice_id=f"reroute-{referral.id}",
        referral_url=referral_url,
        source_endpoint=source_endpoint,
    )


def requester_notice(
    referral: Referral,
    *,
    english: str,
    thai: str,
    notice_id: str,
    referral_url: str,
    source_endpoint: str,
) -> FhirMessage:
    """A notification-requested for the referring hospital (PDPA: no patient data)."""
    return notification_request_message(
        request_id=derived_id("cr-", notice_id),
        category=NotificationCategory.REFERRAL_STATUS,
        referral_id=referral.id,
        recipients=[referral.requester_org],
        english=english,
        thai=thai,
        link=referral_url,
        sender=organization_reference(referral.owner_org),
        source_endpoint=source_endpoint,
    )


def time_alert(
    referral: Referral,
    *,
    alert: Alert,
    recipients: list[str],
    referral_url: str,
    source_endpoint: str,
) -> FhirMessage:
    """A time-critical alert for the stroke teams (needs acknowledgement: priority stat)."""
    return notification_request_message(
        request_id=derived_id(f"cr-alert-{alert.code.value}-", referral.id),
        category=NotificationCategory.TIME_ALERT,
        referral_id=referral.id,
        recipients=recipients,
        english=alert_text(alert, EN),
        thai=alert_text(alert, TH),
        link=referral_url,
        sender=codes.NETWORK_ORGANIZATION,
        source_endpoint=source_endpoint,
    )
