"""SQL for what a spoke asked a consult first with (schema ``telemedicine``), and the referral
such a consult is linked to once its recommendation to transfer created one."""

from __future__ import annotations

from services.telemedicine.domain.first_consult import ConsultQuestion
from shared.db.pool import Connection

# The question and the patient's identifiers are personal data: purged with the findings.
PURGE_QUESTIONS = """
    DELETE FROM consult_question q USING consult c
     WHERE q.consult_id = c.id AND c.requested_at < $1
"""


async def insert_question(
    connection: Connection, *, consult_id: str, question: ConsultQuestion
) -> None:
    await connection.execute(
        """
        INSERT INTO consult_question (consult_id, hospital_number, hospital_number_system,
                                      last_known_well, lkw_uncertain, door_in, nihss, question)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
        """,
        consult_id,
        question.hospital_number,
        question.hospital_number_system,
        question.last_known_well,
        question.lkw_uncertain,
        question.door_in,
        question.nihss,
        question.question,
    )


async def question_of(
    connection: Connection, *, consult_id: str, patient: str
) -> ConsultQuestion | None:
    row = await connection.fetchrow(
        "SELECT * FROM consult_question WHERE consult_id = $1", consult_id
    )
    if row is None:
        return None
    return ConsultQuestion(
        patient=patient,
        hospital_number=row["hospital_number"],
        hospital_number_system=row["hospital_number_system"],
        last_known_well=row["last_known_well"],
        lkw_uncertain=row["lkw_uncertain"],
        door_in=row["door_in"],
        nihss=row["nihss"],
        question=row["question"],
    )


async def link_referral(connection: Connection, *, consult_id: str, referral_id: str) -> bool:
    """Links a consult asked first to the referral it started (once: False when it was)."""
    status: str = await connection.execute(
        """
        UPDATE consult SET linked_referral = $2
         WHERE id = $1 AND asked_first AND linked_referral IS NULL
        """,
        consult_id,
        referral_id,
    )
    return status.endswith(" 1")


async def hubs_consulted_by(connection: Connection, *, hospital: str) -> list[str]:
    """The hospitals whose consultants ``hospital`` asked, the latest first (the form offers
    them: a spoke nearly always asks the same hub)."""
    rows = await connection.fetch(
        """
        SELECT consultant_org FROM consult WHERE requester_org = $1
         GROUP BY consultant_org ORDER BY max(requested_at) DESC LIMIT 10
        """,
        hospital,
    )
    return [row["consultant_org"] for row in rows]
