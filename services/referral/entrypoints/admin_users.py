"""The people of a hospital, for its administrator (``/app/admin/users``): list, create, change
role, reset password, disable and enable. Only a hospital administrator opens it (403 for
anyone else), and only for their own hospital: the SQL names it, so a person of another
hospital is 404. Every change is a plain form (with the CSRF token) answered by a redirect back
to the list, or the list again with the reason it was refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.referral.adapters import hospital_users
from services.referral.domain.accounts import Role, SignedInPerson
from services.referral.entrypoints.deps import ActionDep, PersonDep, render
from services.referral.service import user_administration as administration
from services.referral.service.user_administration import (
    ASSIGNABLE_ROLES,
    AdministrationRefused,
    Refusal,
)
from shared.db.pool import Connection
from shared.runtime import RuntimeDep, ServiceRuntime

router = APIRouter(prefix="/app/admin/users", default_response_class=HTMLResponse)
LIST = "/app/admin/users"

RoleField = Annotated[Role, Form()]
PasswordField = Annotated[str, Form(max_length=256)]


async def _list_page(
    request: Request,
    runtime: ServiceRuntime,
    admin: SignedInPerson,
    *,
    refused: Refusal | None = None,
    done: str | None = None,
) -> HTMLResponse:
    hospital_id = _hospital(admin)
    async with runtime.pool.acquire() as connection:
        people = await hospital_users.users_of(connection, hospital_id=hospital_id)
    status = {
        None: 200,
        Refusal.NOT_FOUND: 404,
        Refusal.USERNAME_TAKEN: 409,
        Refusal.NOT_YOURSELF: 409,
    }.get(refused, 422)
    return render(
        request,
        "app/admin_users.html",
        person=admin,
        status_code=status,
        people=people,
        roles=ASSIGNABLE_ROLES,
        refused=refused.value if refused else None,
        done=done,
    )


def _hospital(admin: SignedInPerson) -> str:
    try:
        return administration.hospital_of(admin)
    except AdministrationRefused:
        raise HTTPException(403, "For a hospital's administrator only") from None


@router.get("")
async def people_of_my_hospital(
    request: Request, runtime: RuntimeDep, admin: PersonDep, done: str | None = None
) -> HTMLResponse:
    return await _list_page(request, runtime, admin, done=done)


async def _change(
    request: Request,
    runtime: ServiceRuntime,
    admin: SignedInPerson,
    change: Callable[[Connection], Awaitable[object]],
    *,
    done: str,
) -> Response:
    """Runs one change in a transaction: back to the list, or the list with why not."""
    _hospital(admin)
    try:
        async with runtime.pool.acquire() as connection, connection.transaction():
            await change(connection)
    except AdministrationRefused as refused:
        return await _list_page(request, runtime, admin, refused=refused.refusal)
    return RedirectResponse(f"{LIST}?done={done}", status_code=303)


@router.post("")
async def create_person(
    request: Request,
    runtime: RuntimeDep,
    admin: ActionDep,
    username: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(max_length=200)],
    role: RoleField,
    password: PasswordField,
) -> Response:
    async def create(connection: Connection) -> int:
        return await administration.create_person(
            connection,
            admin=admin,
            username=username,
            display_name=display_name,
            role=role,
            password=password,
        )

    return await _change(request, runtime, admin, create, done="created")


@router.post("/{user_id}/role")
async def change_role(
    request: Request, runtime: RuntimeDep, admin: ActionDep, user_id: int, role: RoleField
) -> Response:
    async def change(connection: Connection) -> None:
        await administration.change_role(connection, admin=admin, user_id=user_id, role=role)

    return await _change(request, runtime, admin, change, done="role")


@router.post("/{user_id}/password")
async def reset_password(
    request: Request, runtime: RuntimeDep, admin: ActionDep, user_id: int, password: PasswordField
) -> Response:
    async def reset(connection: Connection) -> None:
        await administration.reset_password(
            connection, admin=admin, user_id=user_id, password=password
        )

    return await _change(request, runtime, admin, reset, done="password")


@router.post("/{user_id}/disable")
async def disable(
    request: Request, runtime: RuntimeDep, admin: ActionDep, user_id: int
) -> Response:
    async def change(connection: Connection) -> None:
        await administration.set_disabled(connection, admin=admin, user_id=user_id, disabled=True)

    return await _change(request, runtime, admin, change, done="disabled")


@router.post("/{user_id}/enable")
async def enable(request: Request, runtime: RuntimeDep, admin: ActionDep, user_id: int) -> Response:
    async def change(connection: Connection) -> None:
        await administration.set_disabled(connection, admin=admin, user_id=user_id, disabled=False)

    return await _change(request, runtime, admin, change, done="enabled")
