"""The SMS channel: a generic HTTP gateway and the ThaiBulkSMS API, behind one interface.

Both adapters take a Delivery whose `address` is a Thai mobile number (`0812345678`,
`+66812345678`, `66812345678`; spaces and dashes are ignored), send `body["text"]` plus one
link (an alert's `ack_link`, else `link`) cut to three concatenated UCS-2 segments (201
characters, the link always kept whole), and raise TransientDeliveryError (5xx, 408, 429,
timeouts, connection failures) or PermanentDeliveryError (other 4xx, an invalid or rejected
number). An invalid number is refused before any request, and the reason never echoes the number.

Generic gateway (our own contract, for a gateway fronted by a hospital or a test double):
`POST {url}` with JSON `{"to": "66812345678", "from": sender, "text": ..., "reference":
delivery.id}`, `Authorization: Bearer {api_key}` and `Idempotency-Key: {delivery.id}`. With a
callback token configured, the body also carries `"callback_url"`: the gateway then reports the
outcome with `POST {callback_url}`, `Authorization: Bearer {callback token}`, JSON
`{"reference": delivery.id, "status": "delivered" | "undelivered", "reason": ...}`.

ThaiBulkSMS (API v2). Vendor documentation lives at developer.thaibulksms.com, which could not
be read directly; the contract below is what the vendor's own client (github.com/thaibulksms/tbs,
`src/client.ts`, `README.md`) and several independent integrations agree on:

- `POST https://api-v2.thaibulksms.com/sms`, HTTP Basic auth with the API key and API secret,
  `Content-Type: application/x-www-form-urlencoded`, `Accept: application/json`.
- Form fields: `msisdn` (recipient), `message`, `sender` (a sender name registered with
  ThaiBulkSMS), optional `force` (`standard` | `corporate`: which credit type to spend), and
  further optional fields this adapter does not use (`scheduled_delivery`, `shorten_url`,
  `callback_url`, `tag`).
- Success is a 2xx (201 in practice) with JSON `{"remaining_credit", "total_use_credit",
  "credit_type", "phone_number_list": [{"number", "message_id", "used_credit"}],
  "bad_phone_number_list": [{"number", "message"}]}`. A 2xx whose only number is in
  `bad_phone_number_list` was not sent: a permanent failure.
- Errors are non-2xx with JSON `{"error": {"code", "name", "description"}}`.

Assumptions (not confirmed against the vendor's reference): `msisdn` is sent as `66XXXXXXXXX`
(the vendor's client sends `+66...`, integrations send `66...` or `0...`; all are accepted);
throttling is a 429 and outages a 5xx; the API has no idempotency key, so a retry after a
timeout whose request did reach ThaiBulkSMS can send the SMS twice.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal, NoReturn

import httpx

from services.notifier.adapters.http_status import is_retryable, retry_after_seconds
from services.notifier.domain.model import (
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
)

THAIBULKSMS_BASE_URL = "https://api-v2.thaibulksms.com"

# Thai text is UCS-2: 70 characters in one SMS, 67 per segment once concatenated.
SMS_MAX_CHARS = 3 * 67
ELLIPSIS = "…"

# Thai mobile numbers: 0 or +66/66/0066, then 6, 8 or 9 and eight more digits. Landlines
# (02..., 05x...) cannot receive SMS and are refused.
_THAI_MOBILE = re.compile(r"(?:\+66|0066|66|0)([689]\d{8})")
_SEPARATORS = re.compile(r"[\s\-().]")


def normalise_thai_mobile(number: str) -> str | None:
    """`0812345678` / `+66 81-234-5678` -> `66812345678`; None when it is not a Thai mobile."""
    match = _THAI_MOBILE.fullmatch(_SEPARATORS.sub("", number))
    return f"66{match.group(1)}" if match else None


def compose_sms_text(text: str, link: str | None, *, limit: int = SMS_MAX_CHARS) -> str:
    """The text, then the link on its own line; the text is cut (with "…") so the link survives.

    A link too long to leave room for any text is sent alone, whole: a cut link is useless.
    """
    text = text.strip()
    link = (link or "").strip()
    if not link:
        return text if len(text) <= limit else _cut(text, limit - len(ELLIPSIS)) + ELLIPSIS
    if not text:
        return link
    full = f"{text}\n{link}"
    if len(full) <= limit:
        return full
    room = limit - len(link) - len("\n") - len(ELLIPSIS)
    if room <= 0:
        return link
    return f"{_cut(text, room)}{ELLIPSIS}\n{link}"


def _cut(text: str, room: int) -> str:
    # Never separate a Thai consonant from its vowel or tone marks (combining, category Mn).
    while room > 0 and unicodedata.category(text[room]) == "Mn":
        room -= 1
    return text[:room].rstrip()


def _sms_text(delivery: Delivery) -> str:
    # An alert carries its acknowledgement link, whose page also opens the referral: one link
    # leaves the most room for the text.
    link = delivery.body.get("ack_link") or delivery.body.get("link")
    message = compose_sms_text(str(delivery.body.get("text") or ""), str(link) if link else None)
    if not message:
        raise PermanentDeliveryError("nothing to send: empty text and no link")
    return message


def _msisdn(delivery: Delivery) -> str:
    msisdn = normalise_thai_mobile(delivery.address)
    if msisdn is None:
        raise PermanentDeliveryError("invalid phone number")
    return msisdn


class GenericSmsChannel:
    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        url: str,
        api_key: str,
        sender: str,
        callback_url: str | None = None,
    ) -> None:
        self._client = client
        # Parsed once: httpx parses a URL given as text on every call.
        self._url = httpx.URL(url)
        self._api_key = api_key
        self._sender = sender
        self._callback_url = callback_url

    async def send(self, delivery: Delivery) -> None:
        payload = {
            "to": _msisdn(delivery),
            "from": self._sender,
            "text": _sms_text(delivery),
            "reference": delivery.id,
            **({"callback_url": self._callback_url} if self._callback_url else {}),
        }
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Idempotency-Key": delivery.id,
        }
        response = await _post(
            "SMS gateway", self._client, self._url, json=payload, headers=headers
        )
        if not response.is_success:
            _raise_for_failure("SMS gateway", response, detail=None)


class ThaiBulkSmsChannel:
    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        base_url: str = THAIBULKSMS_BASE_URL,
        api_key: str,
        api_secret: str,
        sender: str,
        force: Literal["standard", "corporate"] | None = None,
    ) -> None:
        self._client = client
        self._url = httpx.URL(f"{base_url.rstrip('/')}/sms")
        self._auth = httpx.BasicAuth(api_key, api_secret)
        self._sender = sender
        self._force = force

    async def send(self, delivery: Delivery) -> None:
        form = {"msisdn": _msisdn(delivery), "message": _sms_text(delivery), "sender": self._sender}
        if self._force is not None:
            form["force"] = self._force
        response = await _post(
            "ThaiBulkSMS",
            self._client,
            self._url,
            data=form,
            headers={"Accept": "application/json"},
            auth=self._auth,
        )
        body = _json_object(response)
        if not response.is_success:
            _raise_for_failure("ThaiBulkSMS", response, detail=_thaibulksms_error(body))
        rejected = body.get("bad_phone_number_list") if body else None
        accepted = body.get("phone_number_list") if body else None
        if isinstance(rejected, list) and rejected and not accepted:
            first = rejected[0]
            why = first.get("message") if isinstance(first, dict) else None
            raise PermanentDeliveryError(
                "ThaiBulkSMS rejected the phone number" + (f": {_clip(str(why))}" if why else "")
            )


async def _post(
    label: str, client: httpx.AsyncClient, url: httpx.URL, **kwargs: Any
) -> httpx.Response:
    try:
        return await client.post(url, **kwargs)
    except httpx.TimeoutException:
        raise TransientDeliveryError(f"{label} timed out") from None
    except httpx.TransportError as error:
        raise TransientDeliveryError(f"{label} unreachable: {type(error).__name__}") from None


def _raise_for_failure(label: str, response: httpx.Response, *, detail: str | None) -> NoReturn:
    reason = f"{label} answered HTTP {response.status_code}" + (f" ({detail})" if detail else "")
    if is_retryable(response.status_code):
        raise TransientDeliveryError(
            reason, retry_after_s=retry_after_seconds(response.headers.get("Retry-After"))
        )
    raise PermanentDeliveryError(reason)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _thaibulksms_error(body: dict[str, Any] | None) -> str | None:
    error = body.get("error") if body else None
    if not isinstance(error, dict):
        return None
    parts = [str(error[key]) for key in ("name", "description") if error.get(key)]
    return _clip(": ".join(parts)) if parts else None


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
