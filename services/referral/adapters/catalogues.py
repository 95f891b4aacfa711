"""The web app's message catalogues: English message ids in the templates, Thai translations in
``services/referral/locale/th/LC_MESSAGES/messages.po``.

The ``.po`` file is read and compiled in memory when the service starts (Babel), so there is no
build step to forget and nothing generated to commit: what runs is what the repository holds.
"""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from services.referral.domain.accounts import LANGUAGES, Language

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"


def catalogue_path(language: Language, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_translations(
    locale_dir: Path = LOCALE_DIR,
) -> dict[Language, gettext.NullTranslations]:
    """Every language's translations; English is the message ids themselves."""
    translations: dict[Language, gettext.NullTranslations] = {}
    for language in LANGUAGES:
        path = catalogue_path(language, locale_dir)
        if not path.exists():
            translations[language] = gettext.NullTranslations()
            continue
        with path.open("rb") as po:
            catalogue = read_po(po, locale=language, domain=DOMAIN)
        compiled = BytesIO()
        # Fuzzy entries are guesses nobody has checked: shown in English, never half-right Thai.
        write_mo(compiled, catalogue, use_fuzzy=False)
        compiled.seek(0)
        translations[language] = gettext.GNUTranslations(compiled)
    return translations
