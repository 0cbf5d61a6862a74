"""examples/event_receiver over real loopback HTTP: the forwarder plugin POSTs each committed
event signed with HMAC-SHA256, receiver.py verifies and stores it; bad or stale signatures are
refused; a receiver that is down makes the outbox retry the delivery later."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from integrator_support import ROOT, free_port, wait_for_http
from sqlalchemy import select

from crm_core.models import OutboxRetry
from crm_core.plugin_system.manifest import Manifest

EXAMPLE = ROOT / "examples" / "event_receiver"
SECRET = "s3cret-for-tests"


@pytest.fixture
def forwarder(monkeypatch: pytest.MonkeyPatch) -> Manifest:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    from crm_event_forwarder.manifest import manifest

    return manifest


@pytest.fixture
def crm_plugins(forwarder: Manifest) -> list[Manifest]:
    return [forwarder]


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    port = free_port()
    out = tmp_path / "events.jsonl"
    proc = subprocess.Popen([sys.executable, str(EXAMPLE / "receiver.py"), "--port", str(port),
                             "--secret", SECRET, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/events"
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", timeout=30)
        monkeypatch.setenv("CRM_EVENT_FORWARDER_URL", url)
        monkeypatch.setenv("CRM_EVENT_FORWARDER_SECRET", SECRET)
        yield {"url": url, "out": out, "proc": proc}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()


def stored(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []


def test_committed_events_arrive_signed_and_verified(crm_kernel: Any, crm_factory: Any,
                                                     receiver: dict[str, Any]) -> None:
    rep = crm_factory.user("sales_rep", login="li.na")
    customer = crm_factory.customer(as_user=rep.login, name="宁波港口物流有限公司")
    crm_factory.contact(customer.id, as_user=rep.login, name="陈杰")
    events = stored(receiver["out"])
    names = [e["name"] for e in events]
    assert names == ["user.created", "customer.created", "contact.created"], names
    created = events[1]
    assert created["entity_id"] == customer.id and created["payload"]["name"] == "宁波港口物流有限公司"
    assert created["actor_id"] == rep.id

    # nothing is sent for a rolled-back transaction
    from crm_core.errors import ValidationError

    with pytest.raises(ValidationError):
        crm_factory.customer(name="")
    assert len(stored(receiver["out"])) == 3


def test_receiver_refuses_bad_and_stale_signatures(forwarder: Manifest, receiver: dict[str, Any]) -> None:
    from crm_event_forwarder.signing import sign

    body = json.dumps({"id": 7, "name": "customer.created"}).encode()
    now = str(int(time.time()))
    good = {"X-CRM-Timestamp": now, "X-CRM-Signature": sign(SECRET, now, body)}
    assert httpx.post(receiver["url"], content=body, headers=good).status_code == 204
    assert httpx.post(receiver["url"], content=body, headers=good).status_code == 204  # replay: stored once
    forged = {"X-CRM-Timestamp": now, "X-CRM-Signature": sign("wrong-secret", now, body)}
    assert httpx.post(receiver["url"], content=body, headers=forged).status_code == 401
    tampered = body.replace(b"7", b"8")
    assert httpx.post(receiver["url"], content=tampered, headers=good).status_code == 401
    old = str(int(time.time()) - 3600)
    stale = {"X-CRM-Timestamp": old, "X-CRM-Signature": sign(SECRET, old, body)}
    assert httpx.post(receiver["url"], content=body, headers=stale).status_code == 401
    assert httpx.post(receiver["url"], content=b"", headers=good).status_code == 400
    assert [e["id"] for e in stored(receiver["out"])] == [7]


def test_a_receiver_that_is_down_gets_the_event_on_retry(crm_kernel: Any, crm_factory: Any,
                                                         receiver: dict[str, Any],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_EVENT_FORWARDER_URL", f"http://127.0.0.1:{free_port()}/events")  # nobody there
    customer = crm_factory.customer(name="重试客户")
    with crm_kernel.new_session() as s:
        retries = list(s.scalars(select(OutboxRetry)))
    assert [r.plugin for r in retries] == ["event_forwarder"] and "ForwardingFailed" in retries[0].last_error
    assert stored(receiver["out"]) == []
    monkeypatch.setenv("CRM_EVENT_FORWARDER_URL", receiver["url"])  # the receiver is back
    from datetime import timedelta

    from crm_core.db import utcnow

    assert crm_kernel.events.retry_due(now=utcnow() + timedelta(minutes=5)) == 1
    events = stored(receiver["out"])
    assert [(e["name"], e["entity_id"]) for e in events] == [("customer.created", customer.id)]
