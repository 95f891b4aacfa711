"""Video rooms of consults: a room name nobody can guess per consult, and who may join it.
Plain rules; the signed join tokens are made in adapters/video_tokens.py."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from shared.workflow.consult_state import ConsultStage

# 128 random bits, in lower-case hex: Jitsi Meet lower-cases room names anyway.
_ROOM_BYTES = 16
ROOM_PREFIX = "ft-"
# A room can be joined once the consult is accepted, until the recommendation is signed.
JOINABLE = frozenset(
    {ConsultStage.ACCEPTED, ConsultStage.IN_VIDEO, ConsultStage.RECOMMENDATION_PENDING}
)


def new_room_name() -> str:
    return f"{ROOM_PREFIX}{secrets.token_hex(_ROOM_BYTES)}"


@dataclass(frozen=True)
class Participant:
    """Who a join token is for: a person (Practitioner id) or, for a hospital's system, the
    hospital; with the hospital they join from and whether they lead the call."""

    id: str
    name: str
    hospital: str
    moderator: bool
