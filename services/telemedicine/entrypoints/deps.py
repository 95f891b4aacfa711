"""What the telemedicine service's routes depend on: typed ``Annotated`` dependencies. Route
modules import this module, never one another."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError

from services.telemedicine.adapters.video_tokens import VideoTokens
from services.telemedicine.container import TelemedicineContainer
from services.telemedicine.service.context import TelemedicineContext
from services.telemedicine.service.monitoring_context import MonitoringContext
from shared.runtime import container_dependency

TelemedicineContainerDep = Annotated[
    TelemedicineContainer, Depends(container_dependency(TelemedicineContainer))
]


def get_context(container: TelemedicineContainerDep) -> TelemedicineContext:
    return container.context


ContextDep = Annotated[TelemedicineContext, Depends(get_context)]


def get_pages(container: TelemedicineContainerDep) -> Jinja2Templates:
    return container.pages


PagesDep = Annotated[Jinja2Templates, Depends(get_pages)]


def get_video_tokens(container: TelemedicineContainerDep) -> VideoTokens:
    return container.video_tokens


VideoTokensDep = Annotated[VideoTokens, Depends(get_video_tokens)]


def get_monitoring(container: TelemedicineContainerDep) -> MonitoringContext:
    return container.monitoring


MonitoringDep = Annotated[MonitoringContext, Depends(get_monitoring)]


Body = TypeVar("Body", bound=BaseModel)


def json_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body itself (``read_body``)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


async def read_body(request: Request, model: type[Body]) -> Body:
    """The JSON body, read only once the route has found the consult is the caller's: a
    hospital that is not one of its two learns nothing, not even what it would have to send.
    A wrong body is answered as FastAPI answers one (422, each problem named)."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as invalid:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in invalid.errors()]
        ) from None
