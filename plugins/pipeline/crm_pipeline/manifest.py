"""The pipeline plugin's manifest: plain data, read without importing its models."""

from __future__ import annotations

from crm_core.plugin_system import Manifest

manifest = Manifest(
    name="pipeline",
    version="0.1.0",
    summary="Opportunities through configurable stages: kanban, approvals, forecast",
    summary_i18n={"zh_CN": "销售机会：可配置阶段、看板、审批、预测"},
    label={"zh_CN": "销售机会", "en": "Pipeline"},
    category="sales",
    depends=(),
    requires_core=">=0.1,<0.2",
    stages=("growth", "mature"),
    hooks="crm_pipeline.plugin",
    migrations="crm_pipeline.migrations",
    auto_install=False,
)
