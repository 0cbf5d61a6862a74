"""The rule engine: which rule matches a lead and why (pure functions, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crm_leads.models import AssignmentRule


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    position: int
    is_fallback: bool
    action: str
    user_id: int | None
    team_id: int | None
    regions: frozenset[str]
    industries: frozenset[str]
    sources: frozenset[str]
    value_min: Decimal | None
    value_max: Decimal | None
    custom: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, row: AssignmentRule) -> Rule:
        c: dict[str, Any] = row.conditions or {}

        def dec(v: Any) -> Decimal | None:
            return None if v in (None, "") else Decimal(str(v))

        return cls(row.id or 0, row.name, row.position, row.is_fallback, row.action, row.user_id,
                   row.team_id, frozenset(c.get("regions") or ()),
                   frozenset(c.get("industries") or ()), frozenset(c.get("sources") or ()),
                   dec(c.get("value_min")), dec(c.get("value_max")),
                   tuple(sorted((str(k), str(v)) for k, v in (c.get("custom") or {}).items())))

    def match(self, lead: Any) -> str | None:
        """Why this rule matches ``lead`` (e.g. ``region=华东; value 120000 ≥ 100000``), or
        ``None`` when it does not. A rule without conditions matches with ``any lead``."""
        why: list[str] = []
        if self.regions:
            if lead.region not in self.regions:
                return None
            why.append(f"region={lead.region}")
        if self.industries:
            if lead.industry not in self.industries:
                return None
            why.append(f"industry={lead.industry}")
        if self.sources:
            if lead.source not in self.sources:
                return None
            why.append(f"source={lead.source}")
        if self.value_min is not None or self.value_max is not None:
            value = lead.estimated_value
            if value is None:
                return None
            if self.value_min is not None:
                if value < self.value_min:
                    return None
                why.append(f"value {value} ≥ {self.value_min}")
            if self.value_max is not None:
                if value > self.value_max:
                    return None
                why.append(f"value {value} ≤ {self.value_max}")
        custom = lead.custom or {}
        for key, expected in self.custom:
            got = custom.get(key)
            got_s = ("true" if got else "false") if isinstance(got, bool) else str(got)
            if got is None or got_s != expected:
                return None
            why.append(f"{key}={expected}")
        return "; ".join(why) or "any lead"


def pick(rules: list[Rule], lead: Any) -> tuple[Rule | None, str]:
    """The first ordinary rule that matches, else the first fallback; with the reason."""
    for r in rules:
        if not r.is_fallback:
            why = r.match(lead)
            if why is not None:
                return r, why
    for r in rules:
        if r.is_fallback:
            return r, "no rule matched: fallback"
    return None, "no rule matched and there is no fallback"
