"""The leads_pipeline plugin's manifest: plain data, read without importing its models."""

from __future__ import annotations

from crm_core.plugin_system import Manifest

manifest = Manifest(
    name="leads_pipeline",
    version="0.1.0",
    summary="Converting a lead can open an opportunity (switches on with leads and pipeline)",
    summary_i18n={"zh_CN": "线索转化时可同时创建销售机会（线索与销售机会都启用时自动启用）"},
    label={"zh_CN": "线索转商机", "en": "Leads → opportunities"},
    category="glue",
    depends=("leads", "pipeline"),
    requires_core=">=0.1,<0.2",
    stages=(),
    hooks="crm_leads_pipeline.plugin",
    auto_install=True,
)
