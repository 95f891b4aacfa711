"""What the telemedicine service's routes depend on: typed ``Annotated`` dependencies and the
checks every route shares. Route modules import this module, never one another."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

from services.telemedicine.container import TelemedicineContainer
from services.telemedicine.domain.model import Consult
from services.telemedicine.service.context import TelemedicineContext
from shared.runtime import container_dependency

TelemedicineContainerDep = Annotated[
    TelemedicineContainer, Depends(container_dependency(TelemedicineContainer))
]


def get_context(container: TelemedicineContainerDep) -> TelemedicineContext:
    return container.context


ContextDep = Annotated[TelemedicineContext, Depends(get_context)]


def ensure_party(consult: Consult, caller: str) -> None:
    """A hospital sees only the consults it asked for or gives."""
    if caller not in (consult.requester_org, consult.consultant_org):
        raise HTTPException(403, "This consult is between other hospitals")
