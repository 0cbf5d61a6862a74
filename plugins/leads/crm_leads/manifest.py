"""The leads plugin's manifest: plain data, read without importing its models."""

from __future__ import annotations

from crm_core.plugin_system import Manifest

manifest = Manifest(
    name="leads",
    version="0.1.0",
    summary="Leads captured by hand, API, web form and CSV; assignment rules; conversion to customers",
    summary_i18n={"zh_CN": "线索录入（手工、API、网页表单、CSV）、分配规则、转化为客户"},
    label={"zh_CN": "线索", "en": "Leads"},
    category="sales",
    depends=(),
    requires_core=">=0.1,<0.2",
    stages=("growth", "mature"),
    hooks="crm_leads.plugin",
    migrations="crm_leads.migrations",
    hookspecs="crm_leads.hookspecs",
    auto_install=False,
)
