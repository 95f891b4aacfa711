"""Resolving references inside a Bundle by the FHIR R4B rules (bundle.html#references).

- An absolute reference (``https://.../Patient/1``, ``urn:uuid:...``) names the entry whose
  ``fullUrl`` is exactly that.
- A relative reference (``Patient/1``) from an entry whose ``fullUrl`` is RESTful
  (``<base>/<type>/<id>``) means ``<base>/Patient/1``.
- Read liberally (Postel): a relative reference the rules leave undefined (the referring entry
  has a ``urn:uuid`` fullUrl, or none) or that finds no entry by them, names the one entry of
  that type and id, when there is exactly one.

Version-specific references (``.../_history/2``) resolve to the entry of that resource.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# [base]/[type]/[id] with an optional /_history/[version] (R4B: references.html#literal).
_RESTFUL = re.compile(
    r"^(?P<base>(?:https?://\S+?)?)/?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-\.]{1,64})"
    r"(?:/_history/[A-Za-z0-9\-\.]{1,64})?$"
)
_ABSOLUTE = ("http://", "https://", "urn:uuid:", "urn:oid:")


@dataclass(frozen=True)
class Located:
    """Where an entry is, as resolution needs it: its fullUrl, resource type and id (read from
    the Bundle model or from the message's JSON, without validating the resource)."""

    full_url: str | None
    resource_type: str
    id: str | None


def split_reference(reference: str) -> tuple[str, str, str] | None:
    """(base, type, id) of a RESTful reference (base empty when relative), else None."""
    match = _RESTFUL.match(reference)
    if match is None:
        return None
    return match["base"].rstrip("/"), match["type"], match["id"]


def organization_id(reference: str | None) -> str | None:
    """The id of an Organization reference, relative or absolute; None for anything else."""
    parts = split_reference(reference or "")
    return parts[2] if parts is not None and parts[1] == "Organization" else None


def resolve(reference: str, entries: Sequence[Located], *, from_url: str | None) -> int | None:
    """The index of the entry ``reference`` names, written in the entry whose fullUrl is
    ``from_url``; None when there is none."""
    if not reference or reference.startswith("#"):
        return None  # contained resources are not entries
    if reference.startswith(_ABSOLUTE):
        exact = _by_full_url(entries, _without_history(reference))
        if exact is not None or reference.startswith(("urn:uuid:", "urn:oid:")):
            return exact
        parts = split_reference(reference)
        return _by_type_and_id(entries, parts[1], parts[2]) if parts else None
    parts = split_reference(reference)
    if parts is None:
        return None
    _, kind, ident = parts
    origin = split_reference(from_url) if from_url else None
    if origin is not None and origin[0]:
        exact = _by_full_url(entries, f"{origin[0]}/{kind}/{ident}")
        if exact is not None:
            return exact
    return _by_type_and_id(entries, kind, ident)


def _without_history(reference: str) -> str:
    return reference.split("/_history/")[0]


def _by_full_url(entries: Sequence[Located], url: str) -> int | None:
    return next((i for i, e in enumerate(entries) if e.full_url == url), None)


def _by_type_and_id(entries: Sequence[Located], kind: str, ident: str) -> int | None:
    found = [i for i, e in enumerate(entries) if e.resource_type == kind and e.id == ident]
    return found[0] if len(found) == 1 else None
