"""Outgoing email through the configured SMTP server.

Settings (``CRM_SMTP_*`` or ``crm.toml``): ``smtp_host`` (empty: email is off), ``smtp_port``,
``smtp_from``, ``smtp_user`` / ``smtp_password`` (login when a user is set), ``smtp_starttls`` or
``smtp_ssl`` (implicit TLS), ``smtp_timeout`` in seconds.

Sending is slow external I/O that cannot be rolled back: call :func:`send` only **after the
transaction that decided to send has committed** — from a scheduled job, due work
(:mod:`crm_core.duework`) or an event hook — never inside a write transaction. The kernel's
notifications (:mod:`crm_core.services.notifications`) do exactly that.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from crm_core.errors import ConfigError
from crm_core.settings import Settings


class MailError(Exception):
    """The SMTP server refused the message or could not be reached."""


def enabled(settings: Settings) -> bool:
    """Whether outgoing email is configured (a host is set)."""
    return bool(settings.smtp_host.strip())


def _check(settings: Settings) -> None:
    if not enabled(settings):
        raise ConfigError("email is not configured: set smtp_host (CRM_SMTP_HOST)")
    if settings.smtp_ssl and settings.smtp_starttls:
        raise ConfigError("smtp_ssl and smtp_starttls exclude each other: choose one")
    if not settings.smtp_from.strip():
        raise ConfigError("set smtp_from (CRM_SMTP_FROM), the sender address")


def build_message(settings: Settings, to: str, subject: str, text: str,
                  html: str | None = None, sender_name: str = "Mosaic CRM") -> EmailMessage:
    """A UTF-8 message (Chinese subjects and bodies are encoded as RFC 2047 / 8-bit MIME)."""
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name, settings.smtp_from.strip()))
    msg["To"] = to
    msg["Subject"] = subject.replace("\r", " ").replace("\n", " ")[:250]
    domain = settings.smtp_from.rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def send_message(settings: Settings, msg: EmailMessage) -> None:
    """Deliver one message; raises :class:`MailError` when the server refuses or is down."""
    _check(settings)
    host, port, timeout = settings.smtp_host.strip(), settings.smtp_port, settings.smtp_timeout
    try:
        if settings.smtp_ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if settings.smtp_starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password)
            client.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"sending to {msg['To']} through {host}:{port} failed: "
                        f"{type(exc).__name__}: {exc}") from exc


def send(settings: Settings, to: str, subject: str, text: str, html: str | None = None) -> None:
    """Build and deliver one message (see the module docstring: after commit only)."""
    send_message(settings, build_message(settings, to, subject, text, html))
