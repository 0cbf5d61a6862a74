"""The event forwarder's manifest."""

from __future__ import annotations

from crm_core.plugin_system import Manifest

manifest = Manifest(
    name="event_forwarder",
    version="0.1.0",
    summary="Forward every domain event as a signed HTTP POST (HMAC-SHA256)",
    summary_i18n={"zh_CN": "把每个业务事件签名后以 HTTP POST 推送出去"},
    label={"zh_CN": "事件推送", "en": "Event forwarder"},
    category="integration",
    requires_core=">=0.1,<0.2",
    hooks="crm_event_forwarder.plugin",
)
