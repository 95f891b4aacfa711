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


async def get_context(container: TelemedicineContainerDep) -> TelemedicineContext:
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
_DEFS = "#/$defs/"


def json_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body itself (``read_body``).

    pydantic puts a nested model's schema under ``$defs`` and refers to it as ``#/$defs/X``;
    inside an OpenAPI document that reference is read from the document's root, where there is
    no ``$defs`` (ReDoc refuses the whole document). The bodies here are not recursive, so each
    reference is replaced by its definition (a dozen lines; a JSON-reference library would be a
    dependency for this one use)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inlined(model.model_json_schema())}},
        }
    }


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``#/$defs/...`` reference replaced by its definition."""
    definitions: dict[str, Any] = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith(_DEFS):
                siblings = {k: resolve(v) for k, v in node.items() if k != "$ref"}
                return {**resolve(definitions[reference.removeprefix(_DEFS)]), **siblings}
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


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
