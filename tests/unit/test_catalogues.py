"""Every text of the web app's pages has its Thai translation: the messages are extracted from
the templates as `pybabel extract` does (services/referral/babel.cfg), and each must be
translated in services/referral/locale/th (not empty, not fuzzy)."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.referral.adapters.catalogues import catalogue_path, load_translations
from tests.support import ROOT

TEMPLATES = ROOT / "services" / "referral" / "templates"


def _messages_in_templates() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(TEMPLATES),
        method_map=[("app/**.html", "jinja2")],
        options_map={"app/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_of_the_pages_has_a_thai_translation() -> None:
    messages = _messages_in_templates()
    assert "Sign in" in messages  # the extraction itself works
    with catalogue_path("th").open("rb") as po:
        thai = read_po(po, locale="th")
    untranslated = sorted(
        m for m in messages if not (thai.get(m) and thai[m].string and not thai[m].fuzzy)
    )
    assert not untranslated, f"add Thai translations to {catalogue_path('th')}: {untranslated}"


def test_the_catalogues_load_thai_and_keep_english_as_written() -> None:
    translations = load_translations()
    assert translations["th"].gettext("Sign in") == "เข้าสู่ระบบ"
    assert translations["en"].gettext("Sign in") == "Sign in"
