"""Demo tasks (``crm demo``): for each seller a few tasks on their own customers — some
overdue, some due today, some upcoming, one recurring — and the default reminder rules on."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core.db import utcnow
from crm_core.models import Customer
from crm_core.services.users import actor_for
from crm_tasks.services.rules import DEFAULT_RULES, ensure_rule
from crm_tasks.services.tasks import create_task

SELLERS = ("zhang.wei", "li.na", "wang.fang", "chen.jie", "liu.yang", "lucas.zhao")
TITLES_ZH = ("电话回访：确认报价反馈", "发送产品方案与报价单", "预约上门拜访", "催收合同回签",
             "跟进试用情况", "邀请参加新品发布会")
TITLES_EN = ("Call back: feedback on the quote", "Send the proposal and price list",
             "Book an on-site visit", "Chase the signed contract", "Check how the trial goes",
             "Invite to the product launch")
# hours from now: overdue, overdue, later today, tomorrow, in 3 days, next week
OFFSETS = (-50, -6, 3, 26, 74, 170)


def load(kernel: Any, ctx: Any, seed: int) -> None:
    rng = random.Random(seed)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    with ctx.uow() as s:
        for values in DEFAULT_RULES:
            ensure_rule(s, values)
    for login in SELLERS:
        try:
            actor = actor_for(ctx, login)
        except Exception:  # a demo without this user (trimmed demo): skip
            continue
        user_ctx = ctx.as_(actor, "system")
        with ctx.reader() as s:
            customers = list(s.scalars(select(col(Customer.id)).where(
                col(Customer.owner_id) == actor.id).order_by(col(Customer.id)).limit(20)))
        if not customers:
            continue
        titles = TITLES_EN if actor.locale == "en" else TITLES_ZH
        for i, hours in enumerate(OFFSETS):
            data: dict[str, Any] = {
                "title": titles[i], "due_at": now + timedelta(hours=hours),
                "related_entity": "customer", "related_id": rng.choice(customers),
            }
            if i == 4:
                data.update(recurrence_every=1, recurrence_unit="week",
                            title=("每周客户例行回访" if actor.locale != "en" else "Weekly check-in call"))
            create_task(user_ctx, data, source="demo", source_key=f"demo:{seed}:{login}:{i}",
                        remind=hours > 0)
