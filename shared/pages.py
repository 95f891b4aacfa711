"""HTML pages of a service: Jinja2 templates and the service's own static assets.

Each service that serves pages keeps them beside its code: ``templates/`` (Jinja2, autoescaped,
so a hospital or patient value can never become markup) and ``static/`` (stylesheets, scripts,
images), mounted at ``/static`` (the web app's), or at ``/static/<service>`` for a service whose
pages share the web app's origin behind the proxy (deploy/nginx/ routes each prefix to its
service). Every asset is served by the service itself: hospital networks often have no internet,
so no page may load anything from elsewhere.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from shared.province_time import PROVINCE_ZONE_NAME

STATIC_PATH = "/static"


def static_url(path: str, *, static_path: str = STATIC_PATH) -> str:
    """A root-relative link to one of the service's static assets (right behind any proxy)."""
    return f"{static_path}/{path.lstrip('/')}"


def page_templates(directory: Path, *, static_path: str = STATIC_PATH) -> Jinja2Templates:
    """The service's templates: every value escaped, and an unknown name in a template an
    error (not an empty string on a clinician's page). Templates link assets with
    ``{{ static('name.css') }}``; a script that shows times reads the province's zone from the
    page (``{{ province_zone }}``) rather than naming it again."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.globals["static"] = functools.partial(static_url, static_path=static_path)
    environment.globals["province_zone"] = PROVINCE_ZONE_NAME
    return Jinja2Templates(env=environment)


def mount_static(app: FastAPI, directory: Path, *, path: str = STATIC_PATH) -> None:
    """Serves ``directory`` at ``path`` (no API key: assets hold no patient data)."""
    app.mount(path, StaticFiles(directory=directory), name="static")
