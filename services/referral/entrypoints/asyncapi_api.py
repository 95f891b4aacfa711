"""The AsyncAPI description of the Kafka topics hospital systems use, outside the FHIR base
(no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from services.referral.adapters.asyncapi_document import asyncapi_document, asyncapi_page
from shared.runtime import RuntimeDep

router = APIRouter()


@router.get("/asyncapi.json", response_class=JSONResponse)
async def asyncapi_json(runtime: RuntimeDep) -> JSONResponse:
    """The AsyncAPI 3.0 document of the topics hospital systems use (no API key needed)."""
    return JSONResponse(asyncapi_document(runtime.broker))


@router.get("/asyncapi", response_class=HTMLResponse)
async def asyncapi_html(runtime: RuntimeDep) -> HTMLResponse:
    """The same document, rendered by the AsyncAPI web component."""
    return HTMLResponse(asyncapi_page(asyncapi_document(runtime.broker)))
