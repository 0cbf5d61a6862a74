"""validate_entity: every enabled plugin's errors refuse the write and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_core.context import Ctx
from crm_core.errors import ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.models import Customer, OutboxEvent
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.customers import create_customer, update_customer


class NoTests:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Any]] = []

    @hookimpl
    def validate_entity(
        self, kernel: Kernel, ctx: Ctx, entity: str, data: dict[str, Any], existing: Any
    ) -> dict[str, list[str]] | None:
        self.seen.append((entity, ctx.interface, existing.name if existing else None))
        if "test" in data["name"].lower():
            return {"name": ["test customers are not allowed"]}
        return None


class Region:
    @hookimpl
    async def validate_entity(self, entity: str, data: dict[str, Any]) -> dict[str, list[str]]:
        if data.get("region") == "XX":
            return {"region": ["unknown region"], "name": ["needs a region"]}
        return {}


def rows(k: Kernel, model: Any) -> int:
    with k.new_session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_hook_validate_entity(make_kernel: Callable[..., Kernel]) -> None:
    rules = NoTests()
    k = make_kernel(plugins=[Manifest(name="hknotest", version="0.1.0", hooks=rules),
                             Manifest(name="hkregion", version="0.1.0", hooks=Region())])
    ctx = k.ctx(interface="api")
    create_customer(ctx, {"name": "Test Co", "type": "enterprise"})  # not enabled: no rule
    assert rules.seen == []

    enable_plugins(k, ["hknotest", "hkregion"])
    with pytest.raises(ValidationError) as info:
        create_customer(ctx, {"name": "Another Test", "type": "enterprise", "region": "XX"})
    assert info.value.errors == {
        "region": ["unknown region"],
        "name": ["needs a region", "test customers are not allowed"],
    }
    assert rows(k, Customer) == 1 and rows(k, OutboxEvent) == 1  # nothing stored
    assert rules.seen == [("customer", "api", None)]

    c = create_customer(ctx, {"name": "Real Co", "type": "enterprise"})
    with pytest.raises(ValidationError, match="test customers are not allowed"):
        update_customer(ctx, c.id, {"name": "Real Test"})
    assert rules.seen[-1] == ("customer", "api", "Real Co")  # existing: the row before
    assert update_customer(ctx, c.id, {"name": "Real Company"}).name == "Real Company"
