"""Personal data the referral service erases once a referral has been closed for the retention
period (shared/retention.py): the hospital number, and the free text of the timeline (decline
reasons, outcomes). Ids, states, times, hospitals and milestones stay for the figures."""

from services.referral.adapters.consult_first_store import PURGE_CONSULT_REQUESTS
from shared.workflow.task_state import TERMINAL, status_codes

# The statements take one parameter, the cutoff (shared/retention.py); the closed states are
# written in from the state machine's own set (constant codes, never input).
CLOSED = "(" + ", ".join(f"'{code}'" for code in status_codes(TERMINAL)) + ")"

PERSONAL_DATA = (
    f"""
    UPDATE referral SET patient_hn = ''
    WHERE patient_hn <> '' AND updated_at < $1 AND status IN {CLOSED}
    """,
    f"""
    UPDATE timeline_entry SET detail = detail - 'reason' - 'outcome'
    WHERE (detail ? 'reason' OR detail ? 'outcome') AND recorded_at < $1
      AND referral_id IN (SELECT id FROM referral WHERE status IN {CLOSED})
    """,
    # A consult asked first: the request it was announced with (hospital number, question).
    PURGE_CONSULT_REQUESTS,
)
