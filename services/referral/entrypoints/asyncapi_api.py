"""The AsyncAPI description of the Kafka topics hospital systems use, outside the FHIR base
(no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from services.referral.adapters.asyncapi_document import (
    ASYNCAPI_TITLE,
    asyncapi_document,
    asyncapi_page_props,
)
from services.referral.entrypoints.deps import PagesDep
from shared.runtime import RuntimeDep

router = APIRouter()


@router.get("/asyncapi.json", response_class=JSONResponse)
async def asyncapi_json(runtime: RuntimeDep) -> JSONResponse:
    """The AsyncAPI 3.0 document of the topics hospital systems use (no API key needed)."""
    return JSONResponse(asyncapi_document(runtime.specification))


@router.get("/asyncapi", response_class=HTMLResponse)
async def asyncapi_html(request: Request, runtime: RuntimeDep, pages: PagesDep) -> HTMLResponse:
    """The same document, rendered by the AsyncAPI web component (served by this service: the
    page loads nothing from the internet)."""
    props = asyncapi_page_props(asyncapi_document(runtime.specification))
    return pages.TemplateResponse(
        request, "asyncapi.html", {"title": ASYNCAPI_TITLE, "props": props}
    )
