"""E-mail over SMTP (smtplib): plain text, one message per recipient; STARTTLS (or TLS on port 465) and
login when set."""

from __future__ import annotations

import hashlib
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from onduty.adapters.notify.render import plain_text, summarize
from onduty.app.ports import DeliveryError
from onduty.domain.incidents import OutboxMessage


class EmailChannel:
    def __init__(self, host: str | None, port: int = 587, *, sender: str = "onduty@localhost",
                 username: str | None = None, password: str | None = None, starttls: bool = True,
                 timeout: float = 10.0, public_url: str = ""):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.timeout, self.public_url = timeout, public_url

    def build(self, message: OutboxMessage, now: datetime) -> EmailMessage:
        summary = summarize(message, self.public_url)
        mail = EmailMessage()
        try:
            mail["Subject"] = summary.title
            mail["From"] = self.sender
            mail["To"] = message.address
        except ValueError as exc:  # a header with a line break: never let it through
            raise DeliveryError(f"bad e-mail header: {exc}", permanent=True) from exc
        mail["Date"] = format_datetime(now)
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        mail["Message-ID"] = f"<{digest}@onduty>"  # the same message re-sent keeps its id
        mail["X-Onduty-Incident"] = str(message.incident_id)
        mail.set_content(plain_text(summary))
        return mail

    def send(self, message: OutboxMessage, now: datetime) -> str:
        if not self.host:
            raise DeliveryError("no SMTP server is set up: set ONDUTY_SMTP_HOST", permanent=True)
        if "@" not in message.address:
            raise DeliveryError(f"{message.address!r} is not an e-mail address", permanent=True)
        mail = self.build(message, now)
        try:
            implicit_tls = self.port == 465  # SMTPS: TLS from the first byte, no STARTTLS step
            connect = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
            with connect(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls and not implicit_tls:
                    if not smtp.has_extn("starttls"):
                        raise DeliveryError(f"{self.host} does not offer STARTTLS; set ONDUTY_SMTP_STARTTLS=false "
                                            "only for a trusted local relay", permanent=True)
                    smtp.starttls()
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"recipient refused: {exc.recipients}",
                                permanent=all(500 <= c < 600 for c in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise DeliveryError(f"SMTP {exc.smtp_code}: {text}", permanent=500 <= exc.smtp_code < 600) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}") from exc
        return f"accepted by {self.host}:{self.port}"
