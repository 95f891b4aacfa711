"""The LINE channel: a push through the LINE Messaging API, and the webhook's acknowledgements.

LINE Notify was discontinued on 31 March 2025; this adapter uses the Messaging API instead.
The contract it relies on (developers.line.biz, "Messaging API reference" / "Send push
message", "Retry failed API requests", "Verify webhook signature"; the OpenAPI definitions in
github.com/line/line-openapi, `messaging-api.yml` and `webhook.yml`):

- `POST {base}/v2/bot/message/push`, `Authorization: Bearer {channel access token}`, JSON
  `{"to": userId | groupId | roomId, "messages": [1..5 message objects]}`. Success is 200 with
  `{"sentMessages": [...]}`; errors carry JSON `{"message": ..., "details": [...]}`.
- `X-Line-Retry-Key: <UUID>` makes the push execute once however often it is sent: once LINE has
  accepted a key, a repeat answers 409 (with `X-Line-Accepted-Request-Id`). A 409 therefore means
  an earlier attempt went through, and counts as sent. The key is honoured for 24 hours after
  the first attempt, so retries must end within that window (our retry policy's do).
- 429 is throttling (2,000 push requests/s per channel); 5xx and timeouts may or may not have
  been executed, and are safe to retry with the same key. Other 4xx cannot improve on retry.
- A Flex message is `{"type": "flex", "altText", "contents": <bubble>}`; a button carries an
  action: `postback` (`data` up to 300 characters, `displayText` shown as the user's message)
  or `uri` (http/https/line/tel, up to 1,000 characters).
- Webhooks are signed: `X-Line-Signature` is base64(HMAC-SHA256(channel secret, raw body)).
  The body is `{"destination", "events": [...]}` (empty `events` when LINE checks the URL); a
  postback event has `type: "postback"`, `timestamp` (milliseconds since the epoch), `source`
  (`type` user/group/room, `userId`, `groupId`/`roomId`) and `postback.data`.

Messages carry only what the notifier rendered (PDPA-minimal); errors and logs never echo the
message text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.notifier.adapters.http_status import is_retryable, retry_after_seconds
from services.notifier.adapters.line_check_ins import check_in_quick_reply
from services.notifier.domain.model import (
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)

PUSH_PATH = "/v2/bot/message/push"
ALT_TEXT_MAX = 400
URI_MAX = 1000
ACK_PREFIX = "ack="
ACK_LABEL = "Acknowledge / รับทราบ"
ACK_DISPLAY_TEXT = "รับทราบ / Acknowledged"
OPEN_LABEL = "Open / เปิด"
_REASON_MAX = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LineChannel:
    def __init__(
        self, *, client: httpx.AsyncClient, base_url: str, channel_access_token: str
    ) -> None:
        self._client = client
        # Parsed once: httpx parses a URL given as text on every call.
        self._url = httpx.URL(base_url.rstrip("/") + PUSH_PATH)
        self._token = channel_access_token

    async def send(self, delivery: Delivery) -> None:
        if not delivery.address.strip():
            raise PermanentDeliveryError("no LINE id for the recipient")
        body = json.dumps(
            {"to": delivery.address.strip(), "messages": [flex_message(delivery)]},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self._token}",
            "X-Line-Retry-Key": delivery.id,
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise TransientDeliveryError("LINE timed out") from None
        except httpx.TransportError as error:
            raise TransientDeliveryError(f"LINE unreachable: {type(error).__name__}") from None
        status = response.status_code
        if response.is_success:
            return
        if status == 409:
            # The retry key was already accepted: an earlier attempt (one that timed out or
            # failed on our side) reached LINE. Sending again would duplicate the message.
            log.info(
                "delivery %s: LINE had already accepted this push (request %s); counted as sent",
                delivery.id,
                response.headers.get("X-Line-Accepted-Request-Id", "unknown"),
            )
            return
        reason = f"LINE answered HTTP {status}"
        line_message = _error_message(response)
        if line_message:
            reason = f"{reason}: {line_message}"
        if is_retryable(status):
            raise TransientDeliveryError(
                reason, retry_after_s=retry_after_seconds(response.headers.get("Retry-After"))
            )
        raise PermanentDeliveryError(reason)


def flex_message(delivery: Delivery) -> dict[str, Any]:
    """One Flex bubble: the text, an acknowledge postback when asked for, a link when given."""
    text = str(delivery.body.get("text") or "").strip()
    if not text:
        raise PermanentDeliveryError("the notification has no text")
    buttons: list[dict[str, Any]] = []
    if delivery.body.get("needs_ack"):
        buttons.append(
            {
                "type": "button",
                "style": "primary",
                "action": {
                    "type": "postback",
                    "label": ACK_LABEL,
                    "data": f"{ACK_PREFIX}{delivery.id}",
                    "displayText": ACK_DISPLAY_TEXT,
                },
            }
        )
    link = str(delivery.body.get("link") or "").strip()
    if link:
        if _usable_uri(link):
            buttons.append(
                {
                    "type": "button",
                    "style": "link",
                    "action": {"type": "uri", "label": OPEN_LABEL, "uri": link},
                }
            )
        else:
            # LINE refuses the whole message for a bad URI; the alert matters more than the link.
            log.warning("delivery %s: link left out (not an http(s) URI LINE accepts)", delivery.id)
    bubble: dict[str, Any] = {
        "type": "bubble",
        "body": {
            "type": "box",
            "layout": "vertical",
            "contents": [{"type": "text", "text": text, "wrap": True}],
        },
    }
    if buttons:
        bubble["footer"] = {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": buttons,
        }
    message: dict[str, Any] = {"type": "flex", "altText": text[:ALT_TEXT_MAX], "contents": bubble}
    quick_reply = check_in_quick_reply(delivery)
    if quick_reply is not None:
        message["quickReply"] = quick_reply
    return message


def verify_signature(*, channel_secret: str, body: bytes, signature: str) -> bool:
    """True when `signature` is base64(HMAC-SHA256(channel secret, body)); compared in constant
    time."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    try:
        given = signature.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


@dataclass(frozen=True, kw_only=True)
class LineAcknowledgement:
    delivery_id: str
    # The LINE user who tapped; the group or room id when LINE did not say which member it was.
    user_id: str
    at: datetime


def acknowledgements_in(body: dict[str, Any]) -> list[LineAcknowledgement]:
    """The acknowledge postbacks (`ack=<delivery id>`) of a webhook body; other events ignored."""
    events = body.get("events")
    if not isinstance(events, list):
        return []
    found: list[LineAcknowledgement] = []
    for event in events:
        if not isinstance(event, dict) or event.get("type") != "postback":
            continue
        postback = event.get("postback")
        data = postback.get("data") if isinstance(postback, dict) else None
        if not isinstance(data, str) or not data.startswith(ACK_PREFIX):
            continue
        delivery_id = data.removeprefix(ACK_PREFIX).strip()
        user_id = _source_id(event.get("source"))
        timestamp = event.get("timestamp")
        if (
            not delivery_id
            or user_id is None
            or not isinstance(timestamp, int)
            or isinstance(timestamp, bool)
        ):
            continue
        found.append(
            LineAcknowledgement(
                delivery_id=delivery_id,
                user_id=user_id,
                at=_EPOCH + timedelta(milliseconds=timestamp),
            )
        )
    return found


def _source_id(source: object) -> str | None:
    if not isinstance(source, dict):
        return None
    for key in ("userId", "groupId", "roomId"):
        value = source.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _usable_uri(uri: str) -> bool:
    return len(uri) <= URI_MAX and uri.startswith(("https://", "http://"))


def _error_message(response: httpx.Response) -> str | None:
    """LINE's `message` field (a description of the error, never our message text)."""
    try:
        payload = response.json()
    except ValueError:
        return None
    message = payload.get("message") if isinstance(payload, dict) else None
    if not isinstance(message, str) or not message.strip():
        return None
    return message.strip()[:_REASON_MAX]
