"""The inbox's digest of a received message is the same, byte for byte, as every version before
wrote it (digests stored before an upgrade must match a redelivery after it), but written by
orjson instead of the standard library's encoder wherever orjson writes the same bytes: about a
fifth of the CPU for a referral's message, and every record a service reads is digested.

Checked against the standard library's canonical form (the earlier versions' code, kept here as
the reference) on the example messages and on generated JSON: every number form orjson writes
otherwise (exponents, values below 1e-4), integers past 64 bits, any text, nesting."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.messaging.inbox import received_content_digest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


def reference_digest(value: bytes) -> str:
    """The digest as the versions before wrote it (standard library only)."""
    entries = json.loads(value).get("entry", [])
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@pytest.fixture
def encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each document the standard library's JSON encoder writes (``json.dumps`` included)."""
    written: list[int] = []
    original = json.JSONEncoder.encode

    def counted(self: json.JSONEncoder, document: Any) -> str:
        written.append(1)
        return original(self, document)

    monkeypatch.setattr(json.JSONEncoder, "encode", counted)
    return written


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.name for example in EXAMPLES])
def test_a_messages_digest_is_written_by_orjson_and_unchanged(
    example: Path, encodes: list[int]
) -> None:
    value = example.read_bytes()
    digest = received_content_digest(value)
    # Was 1: the canonical form written by the standard library's encoder.
    assert len(encodes) == 0
    assert digest == reference_digest(value)


@pytest.mark.parametrize(
    "number",
    [
        "1e-05",
        "1e-7",
        "1.5E-6",
        "0.00001",
        "0.000015",
        "1e16",
        "1.5e+300",
        "5e-324",
        "2.5e-324",
        "18446744073709551616",
        "-9223372036854775809",
        "123456789012345678901234567890.5",
        "1e-400",
        "0.0001",
        "-0.0",
        "1E5",
        "7.40",
        "99.550",
    ],
)
def test_numbers_orjson_writes_otherwise_keep_their_digest(number: str) -> None:
    value = f'{{"resourceType":"Bundle","entry":[{{"n":{number},"m":[{number}]}}]}}'.encode()
    assert received_content_digest(value) == reference_digest(value)
    _assert_same_from_the_json_already_read(value)


def _assert_same_from_the_json_already_read(value: bytes) -> None:
    """The digest from the JSON a caller has already read (by the standard library, as
    ``parse_message`` reads a hospital's message, or by orjson, as a relayed record is read) is
    the digest of the bytes."""
    assert received_content_digest(value, json.loads(value)) == reference_digest(value)
    with contextlib.suppress(orjson.JSONDecodeError):
        assert received_content_digest(value, orjson.loads(value)) == reference_digest(value)


@pytest.mark.parametrize(
    "value",
    [
        b'\xef\xbb\xbf{"entry":[{"a":1}]}',  # a UTF-8 byte order mark
        '{"entry":[{"a":"\u00e9"}]}'.encode("utf-16"),
        b'{"entry":[{"a":Infinity,"b":NaN}]}',  # not JSON, but the standard library reads it
        b'{"entry":[{"a":1,"a":2}]}',  # a member twice: the last one counts
        b'{"entry":[{"id":"urn:uuid:4e8f0001-1e5a-4e00-8e00-000000000000","v":[1e2]}]}',
    ],
)
def test_what_orjson_cannot_read_or_write_the_same_is_digested_as_before(value: bytes) -> None:
    assert received_content_digest(value) == reference_digest(value)
    _assert_same_from_the_json_already_read(value)


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda mantissa, exponent: float(f"{mantissa}e{exponent}"),
        st.integers(min_value=1, max_value=10**17),
        st.integers(min_value=-330, max_value=290),
    ),
)
_JSON = st.recursive(
    st.none() | st.booleans() | _NUMBERS | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


# Generating the nested JSON is most of the time (about 13 ms an example): 200 in the suite,
# beside the number forms and unreadable inputs listed above; FT_FUZZ_EXAMPLES for a long run.
@settings(max_examples=int(os.environ.get("FT_FUZZ_EXAMPLES", "200")), deadline=None)
@given(entries=st.lists(_JSON, max_size=4), orjson_written=st.booleans())
def test_any_json_keeps_its_digest(entries: list[Any], orjson_written: bool) -> None:
    document = {"resourceType": "Bundle", "entry": entries}
    # As a hospital's system may write it (spaces, escapes), or as the relay does (orjson,
    # which writes no integer past 64 bits).
    value = json.dumps(document).encode()
    if orjson_written:
        with contextlib.suppress(TypeError):
            value = orjson.dumps(document)
    assert received_content_digest(value) == reference_digest(value)
    _assert_same_from_the_json_already_read(value)
