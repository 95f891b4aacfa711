"""How one code of a vocabulary reads: English, Thai and, where it helps, a definition."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    english: str
    thai: str
    definition: str | None = None
