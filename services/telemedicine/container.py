"""The telemedicine service's collaborators, in one typed container built by ``bootstrap.py``
(entry points receive it through ``entrypoints/deps.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.templating import Jinja2Templates

from services.telemedicine.adapters.video_tokens import VideoTokens
from services.telemedicine.service.context import TelemedicineContext
from services.telemedicine.service.monitoring_context import MonitoringContext


@dataclass(frozen=True)
class TelemedicineContainer:
    context: TelemedicineContext
    video_tokens: VideoTokens
    # The consult pages' templates (entrypoints/consult_pages.py).
    pages: Jinja2Templates
    # Home-isolation monitoring's programmes, check-in links and consultant hospital.
    monitoring: MonitoringContext
