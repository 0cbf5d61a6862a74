"""Helpers of the leads plugin's tests (a uniquely named module: test files import it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_core.context import Ctx
from crm_core.kernel import Kernel
from crm_core.services.users import actor_for
from crm_core.testing_web import Factories


@dataclass
class People:
    kernel: Kernel
    factory: Factories
    ids: dict[str, int]
    teams: dict[str, int]

    def ctx(self, login: str, interface: str = "web") -> Ctx:
        return self.kernel.ctx(actor_for(self.kernel.ctx(), login), interface)

    @property
    def system(self) -> Ctx:
        return self.kernel.ctx()


def lead_data(**kw: Any) -> dict[str, Any]:
    n = kw.pop("n", 1)
    data = {"name": f"线索{n}", "company": f"测试{n}科技有限公司", "phone": f"138 0013 {n:04d}",
            "source": "website", "region": "华东", "industry": "I", "estimated_value": "50000"}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}
