"""The notifications the referral service asks the notifier for (notification-requested), with
their texts in English and Thai. PDPA: the minimum a recipient needs, and a link to the referral."""

from __future__ import annotations

from services.referral.domain.lifecycle import ReferralChange
from services.referral.domain.model import Referral, RequestReferral
from services.referral.domain.readable_time import english_moment, thai_moment
from shared.fhir import codes
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.envelope import FhirMessage
from shared.fhir.ids import derived_id
from shared.fhir.notifications import notification_request_message
from shared.vocabulary.notification_categories import NotificationCategory


def stroke_team_alert(
    request: RequestReferral,
    *,
    requester_name: str,
    referral_url: str,
    source_endpoint: str,
) -> FhirMessage:
    """notification-requested for the receiving hospital's stroke team (PDPA: minimum data)."""
    kind = "Stroke pre-alert" if request.prealert else "Stroke referral"
    kind_th = "แจ้งเตือนล่วงหน้าผู้ป่วย stroke" if request.prealert else "ส่งต่อผู้ป่วย stroke"
    facts = [f"from {requester_name}"]
    facts_th = [f"จาก {requester_name}"]
    if request.nihss is not None:
        facts.append(f"NIHSS {request.nihss}")
        facts_th.append(f"NIHSS {request.nihss}")
    if request.last_known_well is not None:
        # With its date: an LKW of 23:50 read after midnight must not pass for today's.
        english, thai = (
            english_moment(request.last_known_well),
            thai_moment(request.last_known_well),
        )
        if request.lkw_uncertain:
            facts.append(f"LKW about {english}, estimated")
            facts_th.append(f"ปกติครั้งสุดท้ายประมาณ {thai} (เวลาโดยประมาณ)")
        else:
            facts.append(f"LKW {english}")
            facts_th.append(f"ปกติครั้งสุดท้าย {thai}")
    return notification_request_message(
        request_id=derived_id("cr-stroke-team-", request.referral_id),
        category=NotificationCategory.STROKE_ALERT,
        referral_id=request.referral_id,
        recipients=[request.owner_org],
        english=f"{kind} {', '.join(facts)}. Open: {referral_url}",
        thai=f"{kind_th} {' '.join(facts_th)} เปิด: {referral_url}",
        sender=organization_reference(request.requester_org),
        source_endpoint=source_endpoint,
    )


def status_notice(
    referral: Referral, change: ReferralChange, *, referral_url: str, source_endpoint: str
) -> FhirMessage:
    """Tells the referring hospital that its referral was accepted or declined."""
    accepted = change.event is EventCode.REFERRAL_ACCEPTED
    verb = "accepted" if accepted else "declined"
    text = f"Your stroke referral was {verb}"
    thai = "โรงพยาบาลปลายทางตอบรับการส่งต่อแล้ว" if accepted else "โรงพยาบาลปลายทางปฏิเสธการส่งต่อ"
    if change.status_reason:
        text += f" ({change.status_reason})"
        thai += f" ({change.status_reason})"
    return requester_notice(
        referral,
        text=text,
        thai=thai,
        notice_id=f"{verb}-{change.message_id}",
        referral_url=referral_url,
        source_endpoint=source_endpoint,
    )


def requester_notice(
    referral: Referral,
    *,
    text: str,
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
        english=f"{text}. Open: {referral_url}",
        thai=f"{thai} เปิด: {referral_url}",
        sender=organization_reference(referral.owner_org),
        source_endpoint=source_endpoint,
    )


def time_alert(
    referral: Referral,
    *,
    code: str,
    text: str,
    thai: str,
    recipients: list[str],
    referral_url: str,
    source_endpoint: str,
) -> FhirMessage:
    """A time-critical alert for the stroke teams (needs acknowledgement: priority stat)."""
    return notification_request_message(
        request_id=derived_id(f"cr-alert-{code}-", referral.id),
        category=NotificationCategory.TIME_ALERT,
        referral_id=referral.id,
        recipients=recipients,
        english=f"Stroke alert ({code}): {text} Open: {referral_url}",
        thai=f"แจ้งเตือนเวลาวิกฤต ({code}): {thai} เปิด: {referral_url}",
        sender=codes.NETWORK_ORGANIZATION,
        source_endpoint=source_endpoint,
    )
