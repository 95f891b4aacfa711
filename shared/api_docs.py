"""A service's API pages (/docs, Swagger UI; /redoc, ReDoc) served with their scripts and styles
from the service itself. FastAPI's own pages load them from a CDN, and hospital networks often
have no internet: the pages would be blank there.

The bundles come from the npm registry at install time (deploy/web-assets.sh, pinned sha512) into
``shared/static/vendor/`` (gitignored), served at ``ASSETS_PATH``. Swagger UI's validator badge
(which asks validator.swagger.io about the document) is turned off, and ReDoc's Google fonts too.
ReDoc's bundle still draws its own logo from cdn.redoc.ly; the pages' Content-Security-Policy
(``'self'`` only) keeps the browser from asking any other host for anything.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
ASSETS_PATH = "/api-docs-assets"
# The folders deploy/web-assets.sh unpacks (name-version, so a new version is a new URL).
SWAGGER_UI = "swagger-ui-dist-5.35.0"
REDOC = "redoc-2.5.4"
# The pages' own inline script (Swagger UI's set-up) and the styles both bundles inject are
# inline; ReDoc's search runs in a worker made from a blob.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'self'"
)


def _self_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


def install_api_docs(app: FastAPI) -> None:
    """Adds /docs, /docs/oauth2-redirect and /redoc to ``app`` (made with ``docs_url=None,
    redoc_url=None``) and serves their assets."""
    # check_dir=False: a checkout without the assets still starts (the pages then say nothing).
    app.mount(ASSETS_PATH, StaticFiles(directory=VENDOR_DIR, check_dir=False), name="api-docs")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _self_only(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{ASSETS_PATH}/{SWAGGER_UI}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_PATH}/{SWAGGER_UI}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_PATH}/{SWAGGER_UI}/favicon-32x32.png",
                oauth2_redirect_url=oauth2_redirect,
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _self_only(get_swagger_ui_oauth2_redirect_html())

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _self_only(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{ASSETS_PATH}/{REDOC}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS_PATH}/{SWAGGER_UI}/favicon-32x32.png",
                with_google_fonts=False,
            )
        )
