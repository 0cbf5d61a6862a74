"""The tasks_leads plugin's manifest: plain data, read without importing its models."""

from __future__ import annotations

from crm_core.plugin_system import Manifest

manifest = Manifest(
    name="tasks_leads",
    version="0.1.0",
    summary="Reminds owners of new leads not contacted in time (switches on with tasks and leads)",
    summary_i18n={"zh_CN": "新线索未及时联系时提醒负责人（任务与线索都启用时自动启用）"},
    label={"zh_CN": "线索提醒", "en": "Lead reminders"},
    category="glue",
    depends=("tasks", "leads"),
    requires_core=">=0.1,<0.2",
    stages=(),
    hooks="crm_tasks_leads.plugin",
    auto_install=True,
)
