"""People of the web app, from the command line.

``python -m services.referral.accounts add-user --username NAME --display-name TEXT
--role nurse|doctor|hospital_admin|operator [--hospital ORGANIZATION_ID] [--language th|en]
[--gregorian]``: the password comes from ``FT_NEW_USER_PASSWORD`` or the first line of standard
input, never from the command line (which shell histories and process lists keep).

``python -m services.referral.accounts seed-dev``: the development people of the demo directory
(README, "Signing in"), all with the development password; refused in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass

from services.referral.adapters import accounts_repository, passwords
from services.referral.config import SERVICE_NAME, ReferralSettings
from services.referral.domain.accounts import (
    LANGUAGES,
    Language,
    Role,
    password_problem,
    valid_username,
)
from shared.db.pool import create_pool

# Development only (README): the password of every seeded person of the demo directory.
DEVELOPMENT_PASSWORD = "fasttrack-dev"  # noqa: S105 - documented, refused in production


@dataclass(frozen=True)
class NewPerson:
    username: str
    display_name: str
    hospital_id: str | None
    role: Role
    language: Language = "th"
    buddhist_era: bool = True


# Sikao refers (a spoke), Trang receives (the hub), Kantang is a third hospital with no part in
# their referrals; one administrator per hospital of the exchange; one operator of the network.
DEVELOPMENT_PEOPLE = (
    NewPerson("nurse.sikao", "พยาบาลสุดา ใจดี", "sikao-hospital", Role.NURSE),
    NewPerson("doctor.sikao", "นพ.สมชาย รักษ์ดี", "sikao-hospital", Role.DOCTOR),
    NewPerson("doctor.trang", "พญ.วิมล ศรีตรัง", "trang-hospital", Role.DOCTOR),
    NewPerson("nurse.trang", "พยาบาลมาลี ทองดี", "trang-hospital", Role.NURSE),
    NewPerson("doctor.kantang", "Dr. Anan Kantang", "kantang-hospital", Role.DOCTOR, "en", False),
    NewPerson("admin.trang", "ผู้ดูแลระบบ รพ.ตรัง", "trang-hospital", Role.HOSPITAL_ADMIN),
    NewPerson("admin.sikao", "ผู้ดูแลระบบ รพ.สิเกา", "sikao-hospital", Role.HOSPITAL_ADMIN),
    NewPerson("operator", "Network operator", None, Role.OPERATOR, "en", False),
)


async def add_people(
    settings: ReferralSettings, people: tuple[NewPerson, ...], password: str
) -> list[str]:
    """Creates the people not there yet (by username); the usernames created."""
    pool = await create_pool(settings.database_url, schema=SERVICE_NAME, max_size=1)
    created = []
    try:
        async with pool.acquire() as connection, connection.transaction():
            for person in people:
                if await accounts_repository.username_taken(connection, person.username):
                    continue
                await accounts_repository.create_user(
                    connection,
                    username=person.username,
                    display_name=person.display_name,
                    hospital_id=person.hospital_id,
                    role=person.role,
                    password_hash=await asyncio.to_thread(passwords.hash_password, password),
                    language=person.language,
                    buddhist_era=person.buddhist_era,
                )
                created.append(person.username)
    finally:
        await pool.close()
    return created


def _password_from_outside() -> str:
    password = os.environ.get("FT_NEW_USER_PASSWORD")
    if password is None:
        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass("Password: ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.referral.accounts")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="create one person (password from stdin or env)")
    add.add_argument("--username", required=True)
    add.add_argument("--display-name", required=True)
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--hospital", help="organization id of the directory (not for operators)")
    add.add_argument("--language", default="th", choices=LANGUAGES)
    add.add_argument("--gregorian", action="store_true", help="years in CE, not the BE")
    commands.add_parser("seed-dev", help="the development people (not in production)")
    arguments = parser.parse_args(argv)
    settings = ReferralSettings()

    if arguments.command == "seed-dev":
        if settings.environment == "production":
            print("seed-dev: refused in production", file=sys.stderr)
            return 2
        created = asyncio.run(add_people(settings, DEVELOPMENT_PEOPLE, DEVELOPMENT_PASSWORD))
        usernames = ", ".join(person.username for person in DEVELOPMENT_PEOPLE)
        print(f"development people ({len(created)} new): {usernames}")
        return 0

    username = arguments.username.strip().lower()
    role = Role(arguments.role)
    problem = None
    if not valid_username(username):
        problem = "the username takes 2-64 lower-case letters, digits, '.', '_' or '-'"
    elif (role is Role.OPERATOR) != (arguments.hospital is None):
        problem = "an operator has no hospital; everybody else has exactly one (--hospital)"
    if problem is None:
        password = _password_from_outside()
        problem = password_problem(password)
        if problem is not None:
            problem = f"the password needs {problem}"
    if problem is not None:
        print(f"add-user: {problem}", file=sys.stderr)
        return 2
    person = NewPerson(
        username,
        arguments.display_name,
        arguments.hospital,
        role,
        arguments.language,
        not arguments.gregorian,
    )
    created = asyncio.run(add_people(settings, (person,), password))
    if not created:
        print(f"add-user: {username} exists already", file=sys.stderr)
        return 1
    print(f"{username} created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
