"""The loyalty plugin's manifest."""

from __future__ import annotations

from crm_core.plugin_system import Manifest

manifest = Manifest(
    name="loyalty",
    version="0.1.0",
    summary="Loyalty points for won opportunities",
    summary_i18n={"zh_CN": "赢单积分：成交即积分，一年后过期"},
    label={"zh_CN": "客户积分", "en": "Loyalty points"},
    category="sales",
    depends=("pipeline",),
    requires_core=">=0.1,<0.2",
    stages=("growth", "mature"),
    hooks="crm_loyalty.plugin",
    migrations="crm_loyalty.migrations",
)
