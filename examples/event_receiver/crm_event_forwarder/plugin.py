"""The forwarder's only hook: ``on_event``, called after the transaction commits."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING

import httpx

from crm_core.hookspecs import hookimpl
from crm_event_forwarder.signing import sign

if TYPE_CHECKING:
    from crm_core.events import DomainEvent
    from crm_core.kernel import Kernel


class ForwardingFailed(RuntimeError):
    """The receiver did not accept the event; the kernel retries it with back-off."""


def event_body(event: DomainEvent) -> bytes:
    return json.dumps({
        "id": event.id, "name": event.name, "entity": event.entity, "entity_id": event.entity_id,
        "actor_id": event.actor_id, "payload": event.payload,
        "created_at": event.created_at.isoformat() if event.created_at else None,
    }, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


@hookimpl
def on_event(kernel: Kernel, event: DomainEvent) -> None:
    url = os.environ.get("CRM_EVENT_FORWARDER_URL")
    secret = os.environ.get("CRM_EVENT_FORWARDER_SECRET")
    if not url or not secret:
        raise ForwardingFailed("set CRM_EVENT_FORWARDER_URL and CRM_EVENT_FORWARDER_SECRET")
    body = event_body(event)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-CRM-Event": event.name,
               "X-CRM-Event-Id": str(event.id), "X-CRM-Timestamp": timestamp,
               "X-CRM-Signature": sign(secret, timestamp, body)}
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise ForwardingFailed(f"{url}: {exc}") from exc
    if answer.status_code >= 300:
        raise ForwardingFailed(f"{url} answered {answer.status_code}")
