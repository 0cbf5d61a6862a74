"""A real SMTP server for tests (aiosmtpd, a dev dependency): messages it receives are parsed
and kept, so a test proves an email really went out over SMTP on loopback::

    with SmtpSink() as smtp:
        kernel = make_kernel(smtp_host=smtp.host, smtp_port=smtp.port, smtp_from="crm@example.com")
        ...
        [message] = smtp.wait_for(1)
        assert message["To"] == "li.na@example.com"
"""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """An SMTP server on 127.0.0.1 that accepts every message (optionally refusing with
    ``refuse=True``: 554 for every message)."""

    def __init__(self, refuse: bool = False) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.refuse = refuse
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 Transaction failed: refused by the test server"
        msg = message_from_bytes(envelope.original_content or envelope.content,
                                 policy=policy.default)
        with self._lock:
            self.messages.append(msg)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def __enter__(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._controller is not None:
            self._controller.stop()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[EmailMessage]:
        """The received messages once there are at least ``n`` (or after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.02)
        with self._lock:
            return list(self.messages)
