"""Pages from templates: every value a hospital or a clinician wrote is escaped, an unknown name
in a template fails instead of showing an empty field, and no page of any service loads anything
from the internet (hospital networks often have none)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
from fastapi.templating import Jinja2Templates

from services.referral.adapters.app_templates import install_app_language
from services.referral.adapters.catalogues import load_translations
from services.referral.domain.accounts import Role, SignedInPerson
from shared.pages import page_templates
from tests.support import ROOT

REFERRAL_TEMPLATES = ROOT / "services" / "referral" / "templates"
# src/href/url() pointing at another host, or a protocol-relative URL.
OUTSIDE = re.compile(
    r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//"""
)


def _service_page_files() -> list[Path]:
    """The services' own templates and assets. Third-party bundles (static/vendor/, fetched by
    deploy/web-assets.sh) are minified code whose URLs are identifiers and documentation links:
    a browser test records every request the page using them makes instead
    (tests/browser/test_asyncapi_page.py)."""
    return sorted(
        path
        for folder in ("templates", "static")
        for path in (ROOT / "services").glob(f"*/{folder}/**/*")
        if path.is_file() and "vendor" not in path.relative_to(ROOT).parts
    )


def _app_pages() -> Jinja2Templates:
    pages = page_templates(REFERRAL_TEMPLATES)
    install_app_language(pages, load_translations())
    return pages


def _signed_in(display_name: str, hospital_name: str) -> SignedInPerson:
    return SignedInPerson(
        user_id=1,
        username="nurse",
        display_name=display_name,
        hospital_id="sikao-hospital",
        role=Role.NURSE,
        language="th",
        buddhist_era=True,
        session_id="s",
        csrf_token="token-1",
        hospital_name=hospital_name,
    )


def _render(template: str, person: SignedInPerson | None, **context: object) -> str:
    request = SimpleNamespace(url=SimpleNamespace(path="/app/"))
    return (
        _app_pages()
        .get_template(template)
        .render(
            person=person,
            language="th",
            csrf_token=person.csrf_token if person else "",
            request=request,
            **context,
        )
    )


def test_the_web_app_escapes_what_people_wrote() -> None:
    page = _render("app/home.html", _signed_in("<script>alert(1)</script>", 'Sikao "Hospital"'))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Sikao &#34;Hospital&#34;" in page


def test_the_web_app_links_its_stylesheet_and_script_on_the_service_itself() -> None:
    page = _render("app/login.html", None, next="/app/", failed=None)
    assert '<link rel="stylesheet" href="/static/app.css">' in page
    assert '<script src="/static/app.js" defer></script>' in page
    for asset in ("app.css", "app.js"):
        assert (ROOT / "services" / "referral" / "static" / asset).is_file()


def test_a_name_missing_from_a_page_fails_instead_of_rendering_empty() -> None:
    with pytest.raises(jinja2.UndefinedError):
        _app_pages().get_template("app/login.html").render(person=None, language="th")


def test_no_page_or_asset_of_any_service_loads_from_another_host() -> None:
    files = _service_page_files()
    assert files, "no templates or static files found"
    offending = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in files
        for match in OUTSIDE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offending == []


@pytest.mark.parametrize(
    "markup",
    [
        '<script src="https://cdn.example/x.js">',
        "<link href='//fonts.example/css'>",
        "body { background: url(https://img.example/a.png) }",
    ],
)
def test_the_outside_asset_check_can_fail(markup: str) -> None:
    assert OUTSIDE.search(markup)


def test_every_vendored_asset_a_page_loads_is_pinned_by_the_web_assets_script() -> None:
    """Third-party assets are not committed: deploy/web-assets.sh fetches them at install time,
    checked against a pinned sha512. A page naming a vendor folder the script does not fetch
    would load nothing on a fresh machine."""
    script = (ROOT / "deploy" / "web-assets.sh").read_text()
    pinned = set(re.findall(r"\|(services/[\w/.-]+/static/vendor/[\w.-]+)\|", script))
    referenced = {
        f"{template.relative_to(ROOT).parts[0]}/{template.relative_to(ROOT).parts[1]}"
        f"/static/vendor/{folder}"
        for template in (ROOT / "services").glob("*/templates/**/*.html")
        for folder in re.findall(r"static\(\s*'vendor/([\w.-]+)/", template.read_text())
    }
    assert referenced, "no page loads a vendored asset: this test has nothing to check"
    assert referenced <= pinned
    assert all(
        re.search(r"sha512-[A-Za-z0-9+/=]{88}", line)
        for line in script.splitlines()
        if "static/vendor/" in line and line.strip().startswith('"')
    )
