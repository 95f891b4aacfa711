"""Refusals of the telemedicine service (mapped to HTTP answers once, in shared/web.py)."""

from __future__ import annotations

from shared.errors import Forbidden, NotFound, RuleBroken


class ConsultNotFound(NotFound):
    """No such consult, or not one between the caller's hospital and another: a third hospital
    is told the same as for a consult that does not exist."""

    def __init__(self, consult_id: str) -> None:
        super().__init__(f"No consult {consult_id[:80]!r}")


class NotTheirStep(Forbidden):
    """The step belongs to the consult's other hospital (the consultant accepts, the spoke
    cancels)."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"Only the consult's other hospital may move it to {stage!r}")


class NotJoinable(RuleBroken):
    """The consult's video room is open from acceptance until the recommendation."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"The video room is not open while the consult is {stage!r}")
