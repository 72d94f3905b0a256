"""Where outbox messages go: e-mail over SMTP, SMS through a pluggable sender whose default
writes one JSON file per message into a spool directory (0600, written to a temp file and
renamed, so a gateway that picks files up never sees half a message).

Settings come from the environment: `CRM_SMTP_HOST`, `CRM_SMTP_PORT`, `CRM_SMTP_USERNAME`,
`CRM_SMTP_PASSWORD`, `CRM_SMTP_FROM`, `CRM_SMTP_STARTTLS`, `CRM_SMTP_TIMEOUT`;
`CRM_SMS_SPOOL_DIR` and `CRM_SMS_SENDER` ("package.module:factory" returning a sender).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import import_module
from pathlib import Path
from typing import Protocol

from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    channel: str
    to: str
    subject: str
    body: str


class SendError(Exception):
    """The message did not go out; `detail` says why (kept on the outbox row)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail[:400]


class Sender(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_SMTP_", extra="ignore")

    host: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    from_addr: str = "crm-care@bank.example.cn"
    starttls: bool = False
    timeout: float = 10.0


class SmsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_SMS_", extra="ignore")

    spool_dir: Path | None = None
    sender: str | None = None


class SmtpSender:
    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self.settings = settings or SmtpSettings()

    def send(self, message: OutgoingMessage) -> None:
        import smtplib
        from email.message import EmailMessage
        from email.utils import make_msgid

        s = self.settings
        if not s.host:
            raise SendError("no SMTP server is configured (CRM_SMTP_HOST)")
        mail = EmailMessage()
        mail["From"] = s.from_addr
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
                if s.starttls:
                    smtp.starttls()
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc


class SpoolSmsSender:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def send(self, message: OutgoingMessage) -> None:
        from crm_tui.domain.kernel import safe_files

        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            safe_files.write_text(self.directory / f"sms-{message.id:010d}.json",
                                  json.dumps(asdict(message), ensure_ascii=False))
        except OSError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc


def default_spool_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("crm-tui", appauthor=False)) / "sms-spool"


def default_senders() -> dict[str, Sender]:
    sms = SmsSettings()
    sms_sender: Sender
    if sms.sender:
        module, _, factory = sms.sender.partition(":")
        sms_sender = getattr(import_module(module), factory or "make_sender")()
    else:
        sms_sender = SpoolSmsSender(sms.spool_dir or default_spool_dir())
    return {"email": SmtpSender(), "sms": sms_sender}
