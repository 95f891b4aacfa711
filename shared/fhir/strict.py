"""Strict reading of FHIR JSON, before the R4B models see it.

The models are lenient where a clinical system must not be: they turn ``true`` or ``"12"`` into
the integer 12 or 1, accept any year, and ignore ``modifierExtension``. This walks the JSON with
the models' own field types and refuses, naming the element (FHIRPath in ``expression``):

- a primitive in the wrong JSON type (FHIR JSON: integers and decimals are numbers, booleans are
  ``true``/``false``, every other primitive a string);
- a date outside 1900 to next year, saying so when it is a Buddhist-era year (BE = CE + 543)
  typed where FHIR wants the Gregorian one;
- control characters (NUL and the rest of C0 but tab, CR and LF, and DEL): FHIR strings may not
  hold them, and PostgreSQL cannot store NUL;
- strings over the limits (Identifier.value and every other text);
- any ``modifierExtension``: this receiver understands none, and FHIR requires a receiver to
  refuse what it does not understand rather than ignore it;
- a message Bundle with more entries than the limit or other than exactly one MessageHeader.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from decimal import Decimal
from typing import Any, NoReturn

from fhir.resources.R4B import get_fhir_model_class

from shared.limits import DEFAULT_LIMITS, InputLimits, implausible_year

# Primitive kinds by FHIR JSON representation, and the other kinds of element.
INTEGER, DECIMAL, BOOLEAN, STRING, DATE, BINARY, RESOURCE = (
    "integer",
    "decimal",
    "boolean",
    "string",
    "date",
    "binary",
    "resource",
)
_STRING_KINDS = frozenset((STRING, DATE, BINARY))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
Kind = str | type
# Where an element is: the root's name, or (the path of its parent, its name, its index in a
# repeated element): its FHIRPath (``_expression``) is written only when it is refused.
Path = str | tuple["Path", str, int | None]


class StrictnessViolation(ValueError):
    """What is wrong and where; ``reason`` is safe to show the sender (it names no values)."""

    def __init__(self, reason: str, *, expression: str, issue_code: str = "value") -> None:
        super().__init__(reason)
        self.reason = reason
        self.expression = expression
        self.issue_code = issue_code


def check_message_json(document: dict[str, Any], limits: InputLimits = DEFAULT_LIMITS) -> None:
    """Checks a message Bundle's JSON; raises StrictnessViolation at the first problem."""
    entries = document.get("entry")
    if isinstance(entries, list):
        if len(entries) > limits.max_bundle_entries:
            raise StrictnessViolation(
                f"The Bundle has {len(entries)} entries; at most {limits.max_bundle_entries}",
                expression="Bundle.entry",
                issue_code="too-costly",
            )
        headers = [
            index
            for index, entry in enumerate(entries)
            if isinstance(entry, dict)
            and isinstance(entry.get("resource"), dict)
            and entry["resource"].get("resourceType") == "MessageHeader"
        ]
        if len(headers) > 1:
            raise StrictnessViolation(
                f"A message Bundle has exactly one MessageHeader; this one has {len(headers)}",
                expression=f"Bundle.entry[{headers[1]}].resource",
                issue_code="structure",
            )
    _check_resource(document, "Bundle", limits)


def _check_resource(value: dict[str, Any], path: Path, limits: InputLimits) -> None:
    resource_type = value.get("resourceType")
    try:
        model = get_fhir_model_class(resource_type) if isinstance(resource_type, str) else None
    except (KeyError, ValueError):
        model = None
    if model is None:
        where = f"{_expression(path)}.resourceType"
        raise StrictnessViolation(
            f"{where} must name a FHIR R4B resource", expression=where, issue_code="structure"
        )
    _check_object(value, model, path, limits)


def _check_object(value: dict[str, Any], model: type, path: Path, limits: InputLimits) -> None:
    # The hot loop of every message that enters: an element's FHIRPath is written only for a
    # violation (``Path``), and a primitive is judged here, without a call of its own.
    kinds = _element_kinds(model)
    for name, item in value.items():
        if name == "modifierExtension" and item:
            where = _expression((path, name, None))
            raise StrictnessViolation(
                f"{where}: this receiver understands no modifier extension, and FHIR requires "
                "refusing a resource with one it does not understand",
                expression=where,
                issue_code="not-supported",
            )
        found = kinds.get(name)
        if found is None:
            continue  # resourceType, or an unknown element the models refuse
        repeated, kind, identifier = found
        elements = enumerate(item) if repeated and isinstance(item, list) else ((None, item),)
        for index, element in elements:
            if element is None:
                continue
            if isinstance(kind, type):
                if isinstance(element, dict):
                    _check_object(element, kind, (path, name, index), limits)
            elif kind in _STRING_KINDS:
                if not isinstance(element, str):
                    _wrong_type(element, "a JSON string", (path, name, index))
                control = _CONTROL.search(element)
                if control is not None:
                    _control_character(control, (path, name, index))
                if kind == BINARY:
                    continue  # bounded by the body size
                longest = limits.max_identifier_chars if identifier else limits.max_text_chars
                if len(element) > longest:
                    where = _expression((path, name, index))
                    raise StrictnessViolation(
                        f"{where} is longer than {longest} characters",
                        expression=where,
                        issue_code="too-long",
                    )
                if kind == DATE:
                    _check_year(element, (path, name, index))
            elif kind == RESOURCE:
                if isinstance(element, dict):
                    _check_resource(element, (path, name, index), limits)
            elif kind == INTEGER:
                if type(element) is not int:
                    _wrong_type(element, "a JSON integer", (path, name, index))
            elif kind == DECIMAL:
                if type(element) not in (int, float):
                    _wrong_type(element, "a JSON number", (path, name, index))
            elif type(element) is not bool:  # BOOLEAN
                _wrong_type(element, "true or false", (path, name, index))


def _wrong_type(value: Any, expected: str, path: Path) -> NoReturn:
    where = _expression(path)
    raise StrictnessViolation(
        f"{where} must be {expected}, not {_json_type(value)}", expression=where
    )


def _control_character(control: re.Match[str], path: Path) -> NoReturn:
    where = _expression(path)
    raise StrictnessViolation(
        f"{where} holds the control character U+{ord(control.group()):04X}; FHIR strings "
        "may not hold control characters other than tab, carriage return and line feed",
        expression=where,
    )


def _check_year(value: str, path: Path) -> None:
    if not value[:4].isdigit():
        return  # the models refuse a malformed date with their own message
    problem = implausible_year(int(value[:4]))
    if problem is not None:
        where = _expression(path)
        raise StrictnessViolation(f"{where}: {problem}", expression=where)


def _expression(path: Path) -> str:
    """The FHIRPath of ``path``: ``Bundle.entry[0].resource.subject``."""
    steps: list[str] = []
    while not isinstance(path, str):
        path, name, index = path
        steps.append(name if index is None else f"{name}[{index}]")
    return ".".join([path, *reversed(steps)])


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


@functools.cache
def _element_kinds(model: type) -> dict[str, tuple[bool, Kind, bool]]:
    """JSON name -> (repeated, kind, whether it is ``Identifier.value``) for each element of a
    model whose kind is known."""
    kinds: dict[str, tuple[bool, Kind, bool]] = {}
    for field in getattr(model, "model_fields", {}).values():
        repeated, kind = _kind_of(field.annotation)
        if kind is not None and field.alias:
            identifier = model.__name__ == "Identifier" and field.alias == "value"
            kinds[field.alias] = (repeated, kind, identifier)
    return kinds


def _kind_of(annotation: Any) -> tuple[bool, Kind | None]:
    repeated = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        elif origin is list:
            repeated = True
            annotation = typing.get_args(annotation)[0]
        else:
            break
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        markers = {type(m).__name__ for m in metadata}
        if "Base64Binary" in markers:
            return repeated, BINARY
        if markers & {"DateTime", "Instant", "Date"}:
            return repeated, DATE
        annotation = base
        if typing.get_origin(base) in (typing.Union, types.UnionType) and str in typing.get_args(
            base
        ):
            return repeated, STRING  # url, canonical: a URL object or the string itself
    primitive = {bool: BOOLEAN, int: INTEGER, Decimal: DECIMAL, float: DECIMAL, str: STRING}
    if annotation in primitive:
        return repeated, primitive[annotation]
    name = getattr(annotation, "__name__", "")
    if name == "ResourceType":
        return repeated, RESOURCE
    if name.endswith("Type"):
        try:
            return repeated, get_fhir_model_class(name.removesuffix("Type"))
        except (KeyError, ValueError):
            return repeated, None
    return repeated, None
