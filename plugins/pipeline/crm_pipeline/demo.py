"""Demo opportunities (``crm demo``): ~120 across the stages for the demo sellers' customers,
some won this month, some lost with a reason, one large deal awaiting its manager's approval.

Everything goes through the services as the owning seller (audit entries and events included);
afterwards the timestamps of the plugin's own rows are spread over the past months so the
history, the forecast and "won this month" look like a real quarter."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.demo import USERS
from crm_core.services.customers import list_customers
from crm_core.services.users import actor_for
from crm_pipeline.models import Opportunity, Pipeline, StageHistory
from crm_pipeline.services import approvals
from crm_pipeline.services.moves import lose_opportunity, move_stage, win_opportunity
from crm_pipeline.services.opportunities import create_opportunity

TOTAL = 120
THRESHOLD = Decimal("500000")
PRODUCTS = ("年度采购", "设备升级", "软件订阅", "运维服务", "扩容项目", "试点项目", "渠道合作",
            "定制开发", "备件采购", "培训服务")
LOST_REASONS = ("价格高于竞争对手", "客户预算取消", "选择了现有供应商", "需求延期到明年",
                "Lost to a competitor on delivery time")
OPEN_STAGES = ("lead", "intent", "proposal", "negotiation")


def load(kernel: Any, ctx: Ctx, seed: int) -> None:
    rng = random.Random(f"pipeline-{seed}")
    sellers = [u.login for u in USERS if u.role in ("sales_rep", "sales_manager")]
    tz = ZoneInfo(kernel.settings.default_timezone)
    today = datetime.now(tz).date()
    with ctx.uow() as s:  # the admin sets the approval amount (pipeline settings)
        s.execute(update(Pipeline).where(col(Pipeline.is_default).is_(True))
                  .values(approval_threshold=THRESHOLD))
    plans: list[tuple[Ctx, Any]] = []
    for login in sellers:
        seller = kernel.ctx(actor_for(ctx, login), "cli")
        mine = list_customers(seller, {"owner": "me", "limit": 60, "sort": "id"}).items
        plans.extend((seller, c) for c in mine)
    if not plans:
        return
    rng.shuffle(plans)
    made: list[tuple[int, str, int]] = []  # (id, outcome, age in days)
    pending_done = False
    for i in range(TOTAL):
        seller, customer = plans[i % len(plans)]
        amount = Decimal(rng.choice((8, 12, 18, 25, 36, 48, 60, 85, 120, 150, 220, 380))) * 1000
        outcome = rng.choices(("open", "won_now", "won_before", "lost"), (60, 18, 12, 10))[0]
        stage = rng.choice(OPEN_STAGES)
        if not pending_done and outcome == "open" and seller.actor.login in ("li.na", "liu.yang"):
            amount, stage = Decimal("880000"), "negotiation"
        close = today + timedelta(days=rng.randint(-20, 150))
        opp = create_opportunity(seller, {
            "customer_id": customer.id, "name": f"{customer.name} {rng.choice(PRODUCTS)}",
            "amount": str(amount), "stage": "lead", "expected_close": close.isoformat(),
            "description": rng.choice(("客户关注交付周期和售后响应。", "需要与采购部和技术部共同评审。",
                                       "Decision maker is the CFO; budget approved for Q1.", None)),
        })
        path = list(OPEN_STAGES[1:OPEN_STAGES.index(stage) + 1]) if outcome == "open" else \
            list(OPEN_STAGES[1:rng.randint(2, 4)])
        for key in path:
            move_stage(seller, opp.id, key)
        if outcome == "open" and amount > THRESHOLD and not pending_done:
            approvals.request_approval(seller, opp.id, "客户要求年底前签约，请审批。")
            pending_done = True
        elif outcome.startswith("won"):
            if amount > THRESHOLD:  # large deals are approved by the seller's manager first
                manager = _manager_of(kernel, ctx, seller.actor.login)
                approvals.request_approval(seller, opp.id)
                approvals.decide_approval(manager, opp.id, True, "同意")
            win_opportunity(seller, opp.id)
        elif outcome == "lost":
            lose_opportunity(seller, opp.id, rng.choice(LOST_REASONS))
        made.append((opp.id, outcome, rng.randint(15, 120)))
    _spread_in_time(ctx, made, today, tz, rng)


def _manager_of(kernel: Any, ctx: Ctx, login: str) -> Ctx:
    user = next(u for u in USERS if u.login == login)
    manager = next((u.login for u in USERS if u.manages and u.team == user.team
                    and u.role == "sales_manager"), None)
    return kernel.ctx(actor_for(ctx, manager or "zhang.wei"), "cli")


def _spread_in_time(ctx: Ctx, made: list[tuple[int, str, int]], today: date, tz: ZoneInfo,
                    rng: random.Random) -> None:
    """Give the demo rows believable dates: created weeks ago, stages entered one after the
    other, won this month or in an earlier month."""
    now = utcnow()
    month_start = datetime.combine(today.replace(day=1), time(9), tz).astimezone(UTC)
    with ctx.uow() as s:
        for opp_id, outcome, age in made:
            created = now - timedelta(days=age, hours=rng.randint(0, 8))
            if outcome == "won_now":
                span = max((now - month_start).total_seconds(), 3600)
                closed = month_start + timedelta(seconds=rng.uniform(0, span))
            elif outcome == "won_before":
                closed = now - timedelta(days=rng.randint(35, 100))
            else:
                closed = now - timedelta(days=rng.randint(1, 14))
            if closed <= created:
                created = closed - timedelta(days=rng.randint(10, 40))
            rows = list(s.scalars(select(StageHistory).where(
                col(StageHistory.opportunity_id) == opp_id).order_by(col(StageHistory.id))))
            last_at = closed if outcome != "open" else now - timedelta(days=rng.randint(0, 10))
            step = (last_at - created) / max(len(rows) - 1, 1)
            for i, h in enumerate(rows):
                h.entered_at = created + step * i
                h.created_at = h.updated_at = h.entered_at
                if i:
                    rows[i - 1].left_at = h.entered_at
            values: dict[str, Any] = {"created_at": created,
                                      "stage_entered_at": rows[-1].entered_at if rows else created}
            if outcome != "open":
                values["closed_at"] = last_at
                values["closed_on"] = last_at.astimezone(tz).date()
            s.execute(update(Opportunity).where(col(Opportunity.id) == opp_id).values(**values))
