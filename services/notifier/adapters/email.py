"""The e-mail channel: one plain-text UTF-8 message per delivery over SMTP (aiosmtplib).

The Message-ID is derived from the delivery id (`<{delivery.id}@fasttrack>`), so a receiving
system can drop the duplicate that a retry after a lost reply produces. SMTP's own reply codes
decide retrying: 4xx (and connection failures, timeouts, a dropped connection) are transient,
5xx are permanent. An empty or malformed address is refused before connecting.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from services.notifier.domain.model import (
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
)

DEFAULT_SUBJECT = "Fast Track notification"
ACKNOWLEDGE_LABEL = "Acknowledge / รับทราบ"

# A bare address: no display name, no whitespace or control characters, a dotted domain.
_ADDRESS = re.compile(
    r"[^\s@<>()\[\],;:\\\"]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def is_email_address(address: str) -> bool:
    return _ADDRESS.fullmatch(address) is not None


class EmailChannel:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
        timeout_s: float = 10,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender  # "noreply@example.org" or "Fast Track <noreply@example.org>"
        self._envelope_sender = parseaddr(sender)[1] or sender
        self._username = username
        self._password = password
        self._start_tls = start_tls
        self._timeout_s = timeout_s

    def compose(self, delivery: Delivery) -> EmailMessage:
        """The message for a delivery (validates the address and the content)."""
        address = delivery.address.strip()
        if not is_email_address(address):
            raise PermanentDeliveryError("invalid e-mail address")
        text = str(delivery.body.get("text") or "").strip()
        link = str(delivery.body.get("link") or "").strip()
        ack_link = str(delivery.body.get("ack_link") or "").strip()
        acknowledge = f"{ACKNOWLEDGE_LABEL}: {ack_link}" if ack_link else ""
        content = "\n\n".join(part for part in (text, link, acknowledge) if part)
        if not content:
            raise PermanentDeliveryError("nothing to send: empty text and no link")
        # Header values must not carry line breaks (header injection; the email package refuses).
        subject = " ".join(str(delivery.body.get("title") or "").split()) or DEFAULT_SUBJECT

        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = address
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = f"<{delivery.id}@fasttrack>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
        # base64 keeps Thai (3 bytes a character in UTF-8) compact and 7-bit clean for any relay.
        message.set_content(content + "\n", subtype="plain", charset="utf-8", cte="base64")
        return message

    async def send(self, delivery: Delivery) -> None:
        message = self.compose(delivery)
        try:
            await aiosmtplib.send(
                message,
                sender=self._envelope_sender,
                recipients=[delivery.address.strip()],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._start_tls,
                timeout=self._timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [recipient.code for recipient in refused.recipients]
            reason = "SMTP server refused the recipient: " + ", ".join(map(str, codes))
            if codes and all(400 <= code < 500 for code in codes):
                raise TransientDeliveryError(reason) from None
            raise PermanentDeliveryError(reason) from None
        except aiosmtplib.SMTPResponseException as error:
            # Sender refused, DATA refused, AUTH refused, HELO refused, or a refusing greeting.
            reason = f"SMTP server answered {error.code}: {_clip(error.message)}"
            if 500 <= error.code < 600:
                raise PermanentDeliveryError(reason) from None
            raise TransientDeliveryError(reason) from None
        except aiosmtplib.SMTPNotSupported as error:
            # e.g. STARTTLS or SMTPUTF8 required but not offered: configuration, not luck.
            raise PermanentDeliveryError(f"SMTP server lacks a feature: {error.message}") from None
        except TimeoutError:  # includes aiosmtplib.SMTPTimeoutError and asyncio.TimeoutError
            raise TransientDeliveryError("SMTP server timed out") from None
        except (aiosmtplib.SMTPException, OSError) as error:
            # SMTPConnectError, SMTPServerDisconnected, connection refused, DNS failure.
            raise TransientDeliveryError(
                f"SMTP server unreachable: {type(error).__name__}"
            ) from None


def _clip(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
