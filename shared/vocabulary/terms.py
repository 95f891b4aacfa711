"""How one code of a vocabulary reads, in English and Thai (the languages the network speaks)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Language(StrEnum):
    THAI = "th"
    ENGLISH = "en"


@dataclass(frozen=True)
class Term:
    """English and Thai; a service's wording may hold ``{name}`` fields its render fills in."""

    english: str
    thai: str
    definition: str | None = None

    def text(self, language: Language) -> str:
        return self.thai if language is Language.THAI else self.english
