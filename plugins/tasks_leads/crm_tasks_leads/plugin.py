"""The tasks_leads plugin's hook implementations: the 12-hour lead rule and its job."""

from __future__ import annotations

from typing import Any

from crm_core.declarations import JobDecl
from crm_core.hookspecs import hookimpl


def uncontacted_leads_job(kernel: Any, fire_key: str) -> None:
    from crm_tasks_leads.rule import run_uncontacted_rule

    run_uncontacted_rule(kernel.ctx())


@hookimpl
def register_jobs(kernel: Any) -> list[JobDecl]:
    return [JobDecl("tasks_leads.uncontacted_leads", uncontacted_leads_job, "interval",
                    {"minutes": 15}, misfire_grace_time=900,
                    description="Alert owners and managers of new leads not contacted in time")]


@hookimpl
def tasks_reminder_rules(kernel: Any) -> list[dict[str, Any]]:
    from crm_tasks_leads.rule import RULE

    return [RULE]


@hookimpl
def load_demo_data(kernel: Any, ctx: Any, seed: int) -> None:
    from crm_tasks.services.rules import ensure_rule

    from crm_tasks_leads.rule import RULE

    with ctx.uow() as s:
        ensure_rule(s, RULE)
