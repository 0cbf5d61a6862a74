"""crm_core.mail against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import pytest

from crm_core import mail
from crm_core.errors import ConfigError
from crm_core.settings import Settings, load_settings
from crm_core.testing_mail import SmtpSink


def smtp_settings(sink: SmtpSink, **extra: object) -> Settings:
    return Settings(smtp_host=sink.host, smtp_port=sink.port, smtp_from="crm@example.com",
                    smtp_timeout=5.0, **extra)  # type: ignore[arg-type]


def test_sends_a_chinese_message_over_smtp() -> None:
    with SmtpSink() as sink:
        mail.send(smtp_settings(sink), "li.na@example.com", "跟进提醒：华东机械",
                  "超过 3 天未跟进\n/customers/1\n")
        [msg] = sink.wait_for(1)
    assert msg["Subject"] == "跟进提醒：华东机械"
    assert msg["To"] == "li.na@example.com"
    assert "crm@example.com" in msg["From"]
    assert "超过 3 天未跟进" in msg.get_content()
    assert sink.envelopes == [("crm@example.com", ["li.na@example.com"])]


def test_header_injection_is_flattened() -> None:
    with SmtpSink() as sink:
        mail.send(smtp_settings(sink), "a@example.com", "hi\r\nBcc: evil@example.com", "x")
        [msg] = sink.wait_for(1)
    assert msg["Bcc"] is None
    assert sink.envelopes[0][1] == ["a@example.com"]


def test_refused_message_raises_mail_error() -> None:
    with SmtpSink(refuse=True) as sink, pytest.raises(mail.MailError, match="554"):
        mail.send(smtp_settings(sink), "a@example.com", "s", "t")


def test_unreachable_server_raises_mail_error() -> None:
    with SmtpSink() as sink:
        port = sink.port
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="crm@example.com",
                        smtp_timeout=2.0)
    with pytest.raises(mail.MailError, match=r"127\.0\.0\.1"):
        mail.send(settings, "a@example.com", "s", "t")


def test_configuration_errors_are_clear() -> None:
    assert not mail.enabled(Settings())
    with pytest.raises(ConfigError, match="smtp_host"):
        mail.send(Settings(), "a@example.com", "s", "t")
    with pytest.raises(ConfigError, match="exclude each other"):
        mail.send(Settings(smtp_host="x", smtp_from="a@b.c", smtp_ssl=True, smtp_starttls=True),
                  "a@example.com", "s", "t")
    with pytest.raises(ConfigError, match="smtp_from"):
        mail.send(Settings(smtp_host="x"), "a@example.com", "s", "t")


def test_settings_from_environment_and_password_hidden() -> None:
    s = load_settings(env={"CRM_SMTP_HOST": "smtp.example.com", "CRM_SMTP_PORT": "465",
                           "CRM_SMTP_SSL": "true", "CRM_SMTP_PASSWORD": "hunter2",
                           "CRM_SMTP_FROM": "crm@example.com"})
    assert (s.smtp_host, s.smtp_port, s.smtp_ssl, s.smtp_starttls) == ("smtp.example.com", 465, True, False)
    assert "hunter2" not in repr(s)
    with pytest.raises(ConfigError, match="CRM_SMTP_PORT"):
        load_settings(env={"CRM_SMTP_PORT": "abc"})
