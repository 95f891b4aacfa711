"""Everything the telemedicine service says to people, in Thai and in English, keyed by the
notice's code (``Term.text`` words it in a language). PDPA: no patient data; the link that
travels beside the text opens the consult."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shared.fhir.codes import EventCode
from shared.vocabulary.terms import Term


class Notice(StrEnum):
    """What the service tells people; each is named by the event it follows."""

    CONSULT_REQUESTED = EventCode.TELECONSULT_REQUESTED.value


NOTICES: Mapping[Notice, Term] = {
    Notice.CONSULT_REQUESTED: Term(
        "Telestroke consult requested.", "ขอปรึกษาแพทย์ระบบประสาททางไกล (telestroke)"
    ),
}
