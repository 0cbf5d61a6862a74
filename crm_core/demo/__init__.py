"""Realistic bilingual demo data: teams, users of every built-in role, Chinese companies with
GB/T 4754 industries, contacts with mobiles, follow-ups over the last 90 days."""

from __future__ import annotations

from crm_core.demo.loader import (
    DEMO_LOGINS,
    TEAMS,
    USERS,
    DemoAccount,
    DemoAlreadyLoaded,
    DemoResult,
    DemoUser,
    load_demo,
)

__all__ = ["DEMO_LOGINS", "TEAMS", "USERS", "DemoAccount", "DemoAlreadyLoaded", "DemoResult",
           "DemoUser", "load_demo"]
