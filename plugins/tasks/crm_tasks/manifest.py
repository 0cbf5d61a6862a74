"""The tasks plugin's manifest: plain data, read without importing its models."""

from __future__ import annotations

from crm_core.plugin_system import Manifest

manifest = Manifest(
    name="tasks",
    version="0.1.0",
    summary="Follow-up tasks and reminder rules, in-app and email notifications, calendar feed",
    summary_i18n={"zh_CN": "跟进任务与提醒规则、站内和邮件通知、日历订阅"},
    label={"zh_CN": "跟进提醒", "en": "Tasks and reminders"},
    category="sales",
    depends=(),
    requires_core=">=0.1,<0.2",
    stages=("startup", "growth", "mature"),
    hooks="crm_tasks.plugin",
    migrations="crm_tasks.migrations",
    hookspecs="crm_tasks.hookspecs",
    auto_install=False,
)
