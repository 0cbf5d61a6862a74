"""find_customer_matches: find_matches merges plugin matches with the kernel's exact ones."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.context import Ctx
from crm_core.declarations import CustomerMatch
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.customers import create_customer, find_matches


class Fuzzy:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.asked: list[tuple[str | None, str | None, str | None]] = []

    @hookimpl
    def find_customer_matches(
        self, kernel: Kernel, ctx: Ctx, name: str | None, phone: str | None, email: str | None
    ) -> list[CustomerMatch]:
        self.asked.append((name, phone, email))
        if not name:
            return []
        return [CustomerMatch(self.ids[n], n, score, "similar name")
                for n, score in (("Acme Trading", 70), ("Acme Trade Co", 80))]


def test_hook_find_customer_matches(make_kernel: Callable[..., Kernel]) -> None:
    fuzzy = Fuzzy()
    k = make_kernel(plugins=[Manifest(name="hkfuzzy", version="0.1.0", hooks=fuzzy)])
    ctx = k.ctx()
    for name, contact in (("Acme Trading", {"name": "Li", "phone": "+8613812345678"}),
                          ("Acme Trade Co", {"name": "Wang", "email": "wang@acme.cn"}),
                          ("Other", {"name": "Zhao"})):
        c = create_customer(ctx, {"name": name, "type": "enterprise", "contacts": [contact]})
        fuzzy.ids[name] = c.id
    acme, trade = fuzzy.ids["Acme Trading"], fuzzy.ids["Acme Trade Co"]

    def found(**details: str) -> list[tuple[int, int, str]]:
        return [(m.customer_id, m.score, m.reason) for m in find_matches(ctx, **details)]

    # the kernel alone: exact phone/email/name matches
    assert found(name="Acme Trading", phone="+8613812345678") == [(acme, 100, "same phone")]
    assert found(email="wang@acme.cn") == [(trade, 100, "same email")]
    assert fuzzy.asked == []

    enable_plugins(k, ["hkfuzzy"])
    # merged by customer, best score kept, best first
    assert found(name="Acme Trading", phone="+8613812345678") == [
        (acme, 100, "same phone"), (trade, 80, "similar name")]
    assert found(name="Acme Trad") == [(trade, 80, "similar name"), (acme, 70, "similar name")]
    assert fuzzy.asked[-1] == ("Acme Trad", None, None)
