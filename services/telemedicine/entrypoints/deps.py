"""What the telemedicine service's routes depend on: typed ``Annotated`` dependencies. Route
modules import this module, never one another."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.telemedicine.adapters.video_tokens import VideoTokens
from services.telemedicine.container import TelemedicineContainer
from services.telemedicine.service.context import TelemedicineContext
from shared.runtime import container_dependency

TelemedicineContainerDep = Annotated[
    TelemedicineContainer, Depends(container_dependency(TelemedicineContainer))
]


def get_context(container: TelemedicineContainerDep) -> TelemedicineContext:
    return container.context


ContextDep = Annotated[TelemedicineContext, Depends(get_context)]


def get_video_tokens(container: TelemedicineContainerDep) -> VideoTokens:
    return container.video_tokens


VideoTokensDep = Annotated[VideoTokens, Depends(get_video_tokens)]
