"""A FHIR message as the services hold it, and the error that refuses one.

Built here (shared.fhir.envelope.build_message) from validated resource models, a message keeps
the JSON document it was built as: it is written to the outbox and to HTTP answers as it is
(orjson), and its Bundle model is made only when something asks for it. Parsed
(shared.fhir.envelope.parse_message), it holds the Bundle model validated where it entered.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fhir.resources.R4B.resource import Resource as FHIRAbstractModel

from shared.fhir.codes import EventCode
from shared.fhir.models import Bundle, MessageHeader
from shared.fhir.references import Entry, resolve

R = TypeVar("R", bound=FHIRAbstractModel)


class InvalidMessage(ValueError):
    """The payload is not an acceptable FHIR message; ``reason`` is safe to show the sender."""

    def __init__(self, reason: str, *, issue_code: str = "invalid", expression: str | None = None):
        super().__init__(reason)
        self.reason = reason
        # An http://hl7.org/fhir/issue-type code for the OperationOutcome.
        self.issue_code = issue_code
        self.expression = expression


class FhirMessage:
    """A structurally valid FHIR message Bundle: parsed (validated where it entered) or built
    here from validated resource models (its JSON written as built, its Bundle model made only
    when something asks for it)."""

    __slots__ = ("_bundle", "_document", "_header")

    def __init__(
        self,
        *,
        bundle: Bundle | None = None,
        header: MessageHeader | None = None,
        document: dict[str, Any] | None = None,
    ) -> None:
        if bundle is None and document is None:
            raise ValueError("a message needs its Bundle or its JSON document")
        self._bundle = bundle
        self._header = header
        self._document = document

    @property
    def bundle(self) -> Bundle:
        if self._bundle is None:
            self._bundle = Bundle.model_validate(self._document)
        return self._bundle

    @property
    def header(self) -> MessageHeader:
        if self._header is None:
            resource = (self.bundle.entry or [])[0].resource
            if not isinstance(resource, MessageHeader):
                raise InvalidMessage("The first entry of a message Bundle must be a MessageHeader")
            self._header = resource
        return self._header

    def _header_json(self) -> dict[str, Any] | None:
        """The header as built (no model needed to read it), for a built message."""
        if self._document is None:
            return None
        header: dict[str, Any] = self._document["entry"][0]["resource"]
        return header

    @property
    def message_id(self) -> str:
        built = self._header_json()
        return str(built["id"]) if built is not None else str(self.header.id)

    @property
    def event(self) -> EventCode:
        built = self._header_json()
        if built is not None:
            return EventCode(built["eventCoding"]["code"])
        # parse_message has checked the coding; the model types cannot know that.
        return EventCode(self.header.eventCoding.code)  # type: ignore[union-attr, arg-type]

    @property
    def sender(self) -> str:
        built = self._header_json()
        if built is not None:
            return str(built["sender"]["reference"])
        return str(self.header.sender.reference)  # type: ignore[union-attr]

    @property
    def destinations(self) -> tuple[str, ...]:
        built = self._header_json()
        if built is not None:
            return tuple(str(d["receiver"]["reference"]) for d in built.get("destination", ()))
        return tuple(
            str(d.receiver.reference)
            for d in (self.header.destination or [])
            if d.receiver is not None and d.receiver.reference
        )

    @property
    def focus(self) -> tuple[str, ...]:
        built = self._header_json()
        if built is not None:
            return tuple(str(f["reference"]) for f in built.get("focus", ()))
        return tuple(str(f.reference) for f in (self.header.focus or []) if f.reference)

    @property
    def response_to(self) -> str | None:
        """For a response message: the MessageHeader.id of the request it answers."""
        response = self.header.response
        return str(response.identifier) if response is not None else None

    @property
    def entries(self) -> list[Entry]:
        return [
            Entry(full_url=e.fullUrl, resource=e.resource)
            for e in self.bundle.entry or []
            if e.resource is not None
        ]

    def full_url_of(self, resource: FHIRAbstractModel) -> str | None:
        return next((e.full_url for e in self.entries if e.resource is resource), None)

    def resolve(
        self, reference: str | None, model: type[R], *, within: FHIRAbstractModel | None = None
    ) -> R | None:
        """The entry of type ``model`` that ``reference``, written in ``within`` (by default the
        MessageHeader), names by the Bundle's rules; None when there is none."""
        if not reference:
            return None
        origin = self.full_url_of(within if within is not None else self.header)
        found = resolve(reference, self.entries, from_url=origin)
        return found if isinstance(found, model) else None

    def resources(self, model: type[R]) -> list[R]:
        return [e.resource for e in (self.bundle.entry or [])[1:] if isinstance(e.resource, model)]

    def first(self, model: type[R]) -> R | None:
        found = self.resources(model)
        return found[0] if found else None

    def focus_resource(self, model: type[R]) -> R | None:
        """The first focus resource of the given type."""
        for reference in self.focus:
            resource = self.resolve(reference, model)
            if resource is not None:
                return resource
        return None

    def to_json(self) -> bytes:
        """The message as FHIR JSON: a built one as it was built (orjson, about forty times
        faster than the models' own serializer), a parsed one from its model."""
        if self._document is not None:
            return orjson.dumps(self._document)
        return self.bundle.model_dump_json(exclude_none=True).encode()

    def to_dict(self) -> dict[str, Any]:
        if self._document is not None:
            return self._document
        return self.bundle.model_dump(mode="json", exclude_none=True)
