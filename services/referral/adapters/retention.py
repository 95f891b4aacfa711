"""Personal data the referral service erases once a referral has been closed for the retention
period (shared/retention.py): the hospital number, and the free text of the timeline (decline
reasons, outcomes). Ids, states, times, hospitals and milestones stay for the figures."""

CLOSED = "('completed', 'rejected', 'cancelled', 'failed', 'entered-in-error')"

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
)
