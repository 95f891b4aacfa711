"""What the telemedicine service erases after the retention period (shared/retention.py): the
messages it sent (the outbox, always purged), the signed recommendations' findings, the
questions asked with consults, the home-isolation episodes' check-ins and contacts, and what a
consult's first page said before a consult that never opened (its referral refused or withdrawn
before telemedicine saw it). The consults' and episodes' ids, stages, levels and times stay for
the figures."""

from services.telemedicine.adapters.early_page_outcomes import PURGE_EARLY_PAGE_OUTCOMES
from services.telemedicine.adapters.monitoring_repository import PURGE_MONITORING
from services.telemedicine.adapters.question_store import PURGE_QUESTIONS
from services.telemedicine.adapters.recommendation_store import PURGE_RECOMMENDATIONS

PERSONAL_DATA = (
    PURGE_RECOMMENDATIONS,
    PURGE_QUESTIONS,
    *PURGE_MONITORING,
    *PURGE_EARLY_PAGE_OUTCOMES,
)
