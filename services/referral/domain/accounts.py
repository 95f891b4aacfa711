"""People of the clinicians' web app: who is signed in, in which hospital, with which role.

A person belongs to one hospital of the directory (an operator of the network to none) and has
one role; what a role may do is decided where it is used (a page or an action), always scoped to
the person's own hospital in the query itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Language = Literal["th", "en"]
LANGUAGES: tuple[Language, ...] = ("th", "en")

# Lower-case letters, digits and . _ -: a username is typed on a phone and read in audit rows.
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# NIST SP 800-63B: at least 8 characters, no composition rules, a generous upper bound.
PASSWORD_MIN_CHARS, PASSWORD_MAX_CHARS = 8, 256


class Role(StrEnum):
    NURSE = "nurse"
    DOCTOR = "doctor"
    HOSPITAL_ADMIN = "hospital_admin"
    # Runs the network (deliveries, dead letters, replay): belongs to no hospital.
    OPERATOR = "operator"


CLINICAL_ROLES = frozenset({Role.NURSE, Role.DOCTOR})


@dataclass(frozen=True)
class SignedInPerson:
    """The person behind a request of the web app, from their server-side session."""

    user_id: int
    username: str
    display_name: str
    # The person's hospital (an organization id of the directory); None for an operator.
    hospital_id: str | None
    role: Role
    language: Language
    # Years shown in the Buddhist era (2569 for 2026), the habit of Thai hospitals.
    buddhist_era: bool
    session_id: str
    # The synchronizer token every form and htmx request of this session carries.
    csrf_token: str
    # The hospital's name in the person's language, for the layout.
    hospital_name: str = ""
    # A hub (it receives referrals: thrombolysis on site) or a spoke that refers.
    hospital_receives_referrals: bool = False

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICAL_ROLES


def valid_username(username: str) -> bool:
    return USERNAME.fullmatch(username) is not None


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < PASSWORD_MIN_CHARS:
        return f"at least {PASSWORD_MIN_CHARS} characters"
    if len(password) > PASSWORD_MAX_CHARS:
        return f"at most {PASSWORD_MAX_CHARS} characters"
    return None


def home_path(person: SignedInPerson) -> str:
    """Where ``/app/`` takes a person: a hub's clinicians to the board, a spoke's to their
    active referrals, an admin to the users of their hospital, an operator to the console."""
    if person.role is Role.OPERATOR:
        return "/app/console/"
    if person.role is Role.HOSPITAL_ADMIN:
        return "/app/admin/users"
    return "/app/board" if person.hospital_receives_referrals else "/app/referrals"


def safe_next(path: str | None) -> str:
    """Where to go after signing in: only a path of the web app itself (never another site:
    ``//evil.example`` or ``/\\evil.example`` would be an open redirect)."""
    if path and path.startswith("/app/") and "\\" not in path and path.isprintable():
        return path
    return "/app/"


@dataclass(frozen=True)
class SignInRules:
    """How long a session lasts and how many failed sign-ins are tolerated in a window.

    Per username: a guessed password for one person's account is stopped after a few tries
    (the person still signs in once the window has passed). Per client address: one machine
    trying many usernames is stopped too, with room for a ward's shared computer.
    """

    session_lifetime_s: float = 12 * 3600  # one shift
    window_s: float = 15 * 60
    max_failures_per_username: int = 5
    max_failures_per_address: int = 30

    def too_many_failures(self, *, by_username: int, by_address: int) -> bool:
        return (
            by_username >= self.max_failures_per_username
            or by_address >= self.max_failures_per_address
        )
