"""Every text of the web app's pages has its Thai translation: the messages are extracted from
the templates and the domain's coded sentences (the routing engine's reasons) as `pybabel
extract` does (services/referral/babel.cfg), with the sentences of the refusals a person's action
may meet on a page, and each must be translated in services/referral/locale/th (not empty, not
fuzzy)."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.referral.adapters.catalogues import catalogue_path, load_translations
from tests.support import ROOT

TEMPLATES = ROOT / "services" / "referral" / "templates"
DOMAIN = ROOT / "services" / "referral" / "domain"
# Where the refusals of a person's action on a page are raised: recording a time on the referral
# page, sending the form (no hospital can take the patient), a change of state.
REFUSING = [
    ROOT / "services" / "referral" / "service" / "milestone_entry.py",
    DOMAIN / "errors.py",
    DOMAIN / "assessment.py",
    DOMAIN / "commands.py",
    ROOT / "shared" / "workflow" / "task_state.py",
]


def _messages_in_templates() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(TEMPLATES),
        method_map=[("app/**.html", "jinja2")],
        options_map={"app/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.add(message if isinstance(message, str) else message[0])
    for _, _, message, _, _ in extract_from_dir(
        str(DOMAIN), method_map=[("routing_reasons.py", "python")]
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _refusal_sentences(module: Path) -> set[str]:
    """The sentence (first argument, a plain string) of every refusal raised or built there."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            first = node.args[0]
            refusal = name.endswith(("Referral", "Refused")) or name in ("__init__", "_in_range")
            if refusal and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
    return found


def test_every_message_of_the_pages_has_a_thai_translation() -> None:
    messages = _messages_in_templates() | {s for m in REFUSING for s in _refusal_sentences(m)}
    assert "Sign in" in messages  # the extraction itself works
    assert "last known well %(hours)s h %(minutes)s min ago" in messages
    assert "No hospital can take the patient now: %(reasons)s" in messages
    assert "This time is already recorded: changing it needs a reason" in messages
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
