"""The web app's account rules, as tables: where signing in may lead, when sign-ins stop, where
each person's home is, which passwords are refused, and Argon2id hashes."""

from __future__ import annotations

import pytest

from services.referral.adapters import passwords
from services.referral.domain.accounts import (
    Role,
    SignedInPerson,
    SignInRules,
    home_path,
    password_problem,
    safe_next,
    valid_username,
)

NEXT_PATHS = [
    # (asked next, where signing in leads)
    ("/app/referrals/ref-1", "/app/referrals/ref-1"),
    ("/app/board?filter=new", "/app/board?filter=new"),
    (None, "/app/"),
    ("", "/app/"),
    ("/app", "/app/"),
    ("https://evil.example/app/", "/app/"),
    ("//evil.example/app/", "/app/"),
    ("/\\evil.example", "/app/"),
    ("/app/\\evil", "/app/"),
    ("/app/x\r\nSet-Cookie: a=b", "/app/"),
    ("/fhir/Task", "/app/"),
    ("javascript:alert(1)", "/app/"),
]


@pytest.mark.parametrize(("asked", "expected"), NEXT_PATHS)
def test_signing_in_leads_only_to_a_page_of_the_web_app(asked: str | None, expected: str) -> None:
    assert safe_next(asked) == expected


RULES = SignInRules(max_failures_per_username=5, max_failures_per_address=30)
FAILURES = [
    # (failures for the username, failures from the address, refused before the password)
    (0, 0, False),
    (4, 4, False),
    (5, 5, True),
    (4, 29, False),
    (0, 30, True),
    (9, 0, True),
]


@pytest.mark.parametrize(("by_username", "by_address", "refused"), FAILURES)
def test_sign_ins_stop_after_too_many_failures_per_username_or_address(
    by_username: int, by_address: int, refused: bool
) -> None:
    assert RULES.too_many_failures(by_username=by_username, by_address=by_address) is refused


def _person(role: Role, *, hub: bool) -> SignedInPerson:
    return SignedInPerson(
        user_id=1,
        username="someone",
        display_name="Someone",
        hospital_id=None if role is Role.OPERATOR else "h",
        role=role,
        language="th",
        buddhist_era=True,
        session_id="s",
        csrf_token="t",
        hospital_receives_referrals=hub,
    )


HOMES = [
    # (role, at a hub, home page)
    (Role.NURSE, False, "/app/referrals"),
    (Role.DOCTOR, False, "/app/referrals"),
    (Role.NURSE, True, "/app/board"),
    (Role.DOCTOR, True, "/app/board"),
    (Role.HOSPITAL_ADMIN, True, "/app/admin/users"),
    (Role.HOSPITAL_ADMIN, False, "/app/admin/users"),
    (Role.OPERATOR, False, "/app/console/"),
]


@pytest.mark.parametrize(("role", "hub", "home"), HOMES)
def test_each_person_starts_on_the_page_of_their_role_and_hospital(
    role: Role, hub: bool, home: str
) -> None:
    assert home_path(_person(role, hub=hub)) == home


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("1234567", "at least 8 characters"),
        ("12345678", None),
        ("ผู้ป่วยสโตรก 2569", None),
        ("x" * 256, None),
        ("x" * 257, "at most 256 characters"),
    ],
)
def test_new_passwords_need_8_to_256_characters_and_nothing_else(
    password: str, problem: str | None
) -> None:
    assert password_problem(password) == problem


@pytest.mark.parametrize(
    ("username", "valid"),
    [("nurse.sikao", True), ("dr_anan-2", True), ("Nurse", False), ("a", False), ("a b", False)],
)
def test_usernames_are_lower_case_words(username: str, valid: bool) -> None:
    assert valid_username(username) is valid


def test_a_password_is_kept_as_an_argon2id_hash_that_verifies_only_itself() -> None:
    stored = passwords.hash_password("correct horse")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse" not in stored
    assert passwords.verify_password(stored, "correct horse")
    assert not passwords.verify_password(stored, "correct horse ")
    assert not passwords.verify_password("not a hash", "correct horse")
    assert passwords.hash_password("correct horse") != stored  # a fresh salt each time
    assert not passwords.needs_rehash(stored)
