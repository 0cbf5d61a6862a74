"""Demo leads for ``crm demo``: ~150 leads over sources and regions, some contacted, converted
or disqualified; five assignment rules (one fallback); a web form."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.models import Team, User
from crm_core.services.users import actor_for
from crm_leads.models import Lead
from crm_leads.schemas import LeadCreate
from crm_leads.services import convert, rules, webform
from crm_leads.services.leads import insert_lead

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "军", "杰", "娟", "涛", "明", "超", "霞", "平")
CITIES = ("上海", "杭州", "苏州", "南京", "广州", "深圳", "东莞", "北京", "成都", "武汉", "西安", "厦门")
TRADES = (("科技", "I"), ("制造", "C"), ("贸易", "F"), ("物流", "G"), ("建设", "E"), ("医疗器械", "Q"),
          ("教育咨询", "P"), ("餐饮管理", "H"), ("新能源", "D"), ("软件", "I"))
REGIONS = (("华东", 5), ("华南", 4), ("华北", 2), ("华中", 1), ("西南", 1), ("港澳台", 1), ("海外", 1))
SOURCES = (("website", 5), ("trade_show", 3), ("referral", 2), ("cold_call", 2), ("advertising", 2),
           ("partner", 1))


def _weighted(rng: random.Random, pool: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p for p, _ in pool], weights=[w for _, w in pool])[0]


def load(kernel: Any, ctx: Ctx, seed: int) -> None:
    with ctx.reader() as s:
        if (s.scalar(select(func.count()).select_from(Lead)) or 0) > 0:
            return  # already there: the demo is loaded once
        users = {u.login: u.id for u in s.scalars(select(User))}
        teams = {t.name: t.id for t in s.scalars(select(Team))}
    rng = random.Random(seed * 7 + 4)
    east, south = teams.get("华东销售一组"), teams.get("华南销售组")
    if "zhang.wei" in users and east and south:
        rules.create_rule(ctx, {"name": "华东大单 → 张伟", "action": "user", "user_id": users["zhang.wei"],
                                "conditions": {"regions": ["华东"], "value_min": "200000"}})
        rules.create_rule(ctx, {"name": "展会线索 → 李娜", "action": "user", "user_id": users["li.na"],
                                "conditions": {"sources": ["trade_show"], "regions": ["华东"]}})
        rules.create_rule(ctx, {"name": "华东 → 一组轮询", "action": "round_robin", "team_id": east,
                                "conditions": {"regions": ["华东"]}})
        rules.create_rule(ctx, {"name": "华南/港澳台/海外 → 线索最少者", "action": "least_open",
                                "team_id": south, "conditions": {"regions": ["华南", "港澳台", "海外"]}})
        rules.create_rule(ctx, {"name": "兜底：华东一组轮询 Fallback", "action": "round_robin",
                                "team_id": east, "is_fallback": True})
    webform.create_token(ctx, "官网咨询表单 Website enquiry", "website", 5)
    now = utcnow()
    made: list[tuple[int, int | None, str]] = []
    with ctx.uow() as s:
        for i in range(150):
            city = rng.choice(CITIES)
            trade, industry = rng.choice(TRADES)
            person = rng.choice(SURNAMES) + rng.choice(GIVEN)
            if rng.random() < .5:
                person += rng.choice(GIVEN)
            company = f"{city}{rng.choice('华鑫泰恒达远兴盛')}{rng.choice('通安祥瑞诚')}{trade}有限公司"
            value = Decimal(rng.choice((5, 8, 12, 20, 30, 50, 80, 120, 250, 400))) * 1000
            d = LeadCreate(
                name=person, company=company,
                phone=f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                email=f"lead{i + 1}@example.cn" if rng.random() < .6 else None,
                source=_weighted(rng, SOURCES), region=_weighted(rng, REGIONS), industry=industry,
                estimated_value=value)
            row = insert_lead(ctx, s, d)
            age = timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 23))
            row.created_at = now - age
            roll = rng.random()
            if roll < .55 and age > timedelta(hours=3):
                row.status = rng.choice(("contacted", "contacted", "qualified"))
                row.first_contacted_at = row.created_at + timedelta(hours=rng.randint(1, 48))
                if row.first_contacted_at > now:
                    row.first_contacted_at = now
            elif roll < .62:
                row.status = "disqualified"
                row.first_contacted_at = row.created_at + timedelta(hours=rng.randint(2, 30))
                row.disqualified_reason = rng.choice(("预算不足", "无真实需求", "联系不上"))
            if row.status == "qualified" and row.id is not None:
                made.append((row.id, row.owner_id, row.status))
    logins = {v: k for k, v in users.items()}
    for lead_id, owner_id, _status in made[:18]:
        login = logins.get(owner_id) if owner_id else None
        if login is None:
            continue
        convert.convert_lead(ctx.as_(actor_for(ctx, login), "web"), lead_id, {})
