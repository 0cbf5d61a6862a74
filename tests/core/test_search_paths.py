"""Name search takes the index for rare substrings and a scan in page order for common ones:
both paths must find exactly the same customers, within scope."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.services import customers as customer_svc
from crm_core.services.customers import create_customer, list_customers
from crm_core.services.users import create_team


def _ids(ctx: Any, q: str) -> set[int]:
    out: set[int] = set()
    cursor = None
    while True:
        page = list_customers(ctx, {"q": q, "cursor": cursor, "limit": 7})
        out |= {c.id for c in page.items}
        if not page.next_cursor:
            return out
        cursor = page.next_cursor


@pytest.mark.parametrize("common_after", [10_000, 1])
def test_index_and_scan_find_the_same_customers(
    crm: Any, helpers: Any, monkeypatch: pytest.MonkeyPatch, common_after: int
) -> None:
    monkeypatch.setattr(customer_svc, "FTS_COMMON", common_after)
    create_team(crm.ctx(), "华东")
    rep = crm.ctx(helpers.add_user(crm, "rep", "sales_rep", team="华东"))
    mate = crm.ctx(helpers.add_user(crm, "mate", "sales_rep", team="华东"))
    manager = crm.ctx(helpers.add_user(crm, "boss", "sales_manager", team="华东"))
    mine = {create_customer(rep, {"name": f"上海星辰科技有限公司{i}"}).id for i in range(12)}
    theirs = {create_customer(mate, {"name": f"杭州星辰科技有限公司{i}"}).id for i in range(5)}
    create_customer(rep, {"name": "广州月光贸易有限公司"})
    assert _ids(rep, "星辰科技") == mine
    assert _ids(manager, "星辰科技") == mine | theirs
    assert _ids(crm.ctx(), "ｓｈａｎｇｈａｉ") == set()
    assert len(_ids(crm.ctx(), "有限公司")) == 18


def test_export_is_written_to_the_audit_log(crm: Any, helpers: Any) -> None:
    from crm_core.services.audit import list_audit

    manager = crm.ctx(helpers.add_user(crm, "boss", "sales_manager"), "web")
    create_customer(manager, {"name": "导出审计有限公司", "status": "won"})
    rows = list(customer_svc.export_customers(manager, {"status": "won"}))
    assert [r.name for r in rows] == ["导出审计有限公司"]
    entry = list_audit(crm.ctx(), {"action": "customer.export"}).items[0]
    assert (entry.actor_login, entry.interface) == ("boss", "web")
    assert entry.changes == {"filters": [None, {"status": "won"}]}
