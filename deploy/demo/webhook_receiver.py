"""A stand-in hospital webhook for the local stack: prints and lists what the notifier sends.

``python -m deploy.demo.webhook_receiver`` (port 8099; ``GET /received`` lists the calls).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

log = logging.getLogger("webhook-demo")
app = FastAPI(title="Fast Track demo webhook receiver")
received: list[dict[str, Any]] = []


@app.post("/notify")
async def notify(request: Request) -> Response:
    body = json.loads(await request.body())
    received.append({"idempotency_key": request.headers.get("idempotency-key"), **body})
    log.warning("notification for %s: %s", body.get("recipient"), body.get("text"))
    return Response(status_code=204)


@app.get("/received")
async def list_received() -> list[dict[str, Any]]:
    return received


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(
        app,
        host=os.environ.get("FT_WEBHOOK_DEMO_HOST", "127.0.0.1"),
        port=int(os.environ.get("FT_WEBHOOK_DEMO_PORT", "8099")),
    )
