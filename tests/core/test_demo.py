"""Demo data: realistic, deterministic, loaded through the services, refused twice."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlmodel import col

from crm_core.cli import CliState, cli
from crm_core.demo import USERS, DemoAlreadyLoaded, load_demo
from crm_core.demo.generate import CustomerPlan, DemoGenerator, id_number
from crm_core.kernel import Kernel
from crm_core.models import AuditEntry, Contact, Customer, FollowUp, OutboxEvent, Team, User
from crm_core.normalize import normalize_id_number
from crm_core.permissions.catalog import BUILTIN_ROLES
from crm_core.schemas import INDUSTRIES, REGIONS, SOURCES, CustomerCreate
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import authenticate, list_users
from crm_core.settings import load_settings

MakeKernel = Callable[..., Kernel]
NOW = datetime(2024, 6, 3, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


# -- the generator (no database) ----------------------------------------------------------
def _plans(seed: int, n: int = 300) -> list[CustomerPlan]:
    gen = DemoGenerator(seed, now=NOW)
    plans = []
    for i in range(n):
        plan = gen.customer()
        gen.plan_followups(plan, english=i % 5 == 0)
        plans.append(plan)
    return plans


def test_same_seed_same_data() -> None:
    a, b, c = _plans(7), _plans(7), _plans(8)
    assert [p.data for p in a] == [p.data for p in b]
    assert [p.followups for p in a] == [p.followups for p in b]
    assert [p.data["name"] for p in a] != [p.data["name"] for p in c]
    assert DemoGenerator(3).password() == DemoGenerator(3).password()


def test_generated_customers_are_valid_and_realistic() -> None:
    plans = _plans(21)
    names = [p.data["name"] for p in plans]
    assert len(set(names)) == len(names)
    types = Counter(p.data["type"] for p in plans)
    assert types["individual"] > 5 and types["enterprise"] > 200
    suffixes = ("有限公司", "Ltd.", "Inc.", "GmbH")
    for p in plans:
        CustomerCreate.model_validate(p.data)  # what create_customer will accept
        d = p.data
        assert d["region"] in REGIONS and d["source"] in SOURCES
        assert d["industry"] is None or d["industry"] in INDUSTRIES
        if d["type"] == "enterprise":
            assert d["name"].endswith(suffixes), d["name"]
            assert d["industry"] is not None
        else:
            assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", d["name"])
            assert normalize_id_number(d["id_number"]) == d["id_number"]
        assert 1 <= len(d["contacts"]) <= 3
        assert sum(c["is_primary"] for c in d["contacts"]) == 1
        for c in d["contacts"]:
            assert c.get("phone") is None or re.fullmatch(r"1[3-9]\d{9}", c["phone"])
            assert c.get("email") is None or c["email"].endswith("example.com")
        for f in p.followups:
            assert NOW - timedelta(days=90) <= f.at <= NOW
        if p.followups:
            assert d["first_contact_date"] <= p.followups[0].at.date()
            assert [f.at for f in p.followups] == sorted(f.at for f in p.followups)
    chinese_company = [n for n in names if n.endswith("有限公司")]
    assert len(chinese_company) > 250
    assert any(n.endswith("股份有限公司") for n in names)
    phones = [c["phone"] for p in plans for c in p.data["contacts"] if c.get("phone")]
    assert len(phones) == len(set(phones))
    assert sum(1 for p in plans if p.data["status"] == "won") > 50


def test_id_number_check_digit() -> None:
    assert id_number("110105", datetime(1949, 12, 31).date(), 2) == "11010519491231002X"


# -- loading through the services ---------------------------------------------------------
def _seeded(make_kernel: MakeKernel) -> Kernel:
    kernel = make_kernel()
    seed_builtin_grants(kernel.ctx())
    return kernel


def test_load_demo_goes_through_the_services(make_kernel: MakeKernel) -> None:
    kernel = _seeded(make_kernel)
    result = load_demo(kernel, customers=12, seed=5)
    assert result.customers == 12 and result.followups > 0
    assert {a.user.role for a in result.accounts} == set(BUILTIN_ROLES) - {"admin"}
    with kernel.new_session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 12
        assert s.scalar(select(func.count()).select_from(Contact)) == result.contacts
        assert s.scalar(select(func.count()).select_from(FollowUp)) == result.followups
        assert s.scalar(select(func.count()).select_from(Team)) == 3
        audit = Counter(s.scalars(select(col(AuditEntry.action))))
        assert audit["customer.create"] == 12 and audit["followup.create"] == result.followups
        assert audit["user.create"] == 10 and audit["team.create"] == 3
        creators = set(s.scalars(select(col(AuditEntry.actor_login))
                                 .where(col(AuditEntry.action) == "customer.create")))
        assert creators <= {u.login for u in USERS if u.role in ("sales_rep", "sales_manager")}
        assert set(s.scalars(select(col(AuditEntry.interface)))) == {"cli"}
        assert s.scalar(select(func.count()).select_from(OutboxEvent)
                        .where(col(OutboxEvent.name) == "customer.created")) == 12
        owners = set(s.scalars(select(col(User.login))
                               .join(Customer, col(Customer.owner_id) == col(User.id))))
        assert owners <= {"zhang.wei", "li.na", "wang.fang", "chen.jie", "liu.yang", "lucas.zhao"}
        latest = s.scalar(select(func.max(col(FollowUp.occurred_at))))
        assert latest is not None
    for account in result.accounts:
        assert account.password
        assert authenticate(kernel.ctx(), account.user.login, account.password) is not None

    with pytest.raises(DemoAlreadyLoaded, match="--force"):
        load_demo(kernel, customers=3)
    again = load_demo(kernel, customers=3, seed=6, force=True)
    assert again.customers == 3 and all(a.password is None for a in again.accounts)
    assert not again.teams_created
    assert len(list_users(kernel.ctx())) == 10


def test_demo_needs_init(make_kernel: MakeKernel) -> None:
    from crm_core.errors import CRMError

    with pytest.raises(CRMError, match="crm init"):
        load_demo(make_kernel(), customers=1)


# -- the command --------------------------------------------------------------------------
def test_crm_init_then_demo(tmp_path: Path, crm_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRM_CONFIG", raising=False)
    for k, v in {"CRM_DATABASE_URL": crm_database_url, "CRM_SECRETS_FILE": str(tmp_path / "s.json"),
                 "CRM_AUTOLOAD_PLUGINS": "false"}.items():
        monkeypatch.setenv(k, v)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), obj=CliState())

    assert run("init", "--preset", "startup").exit_code == 0
    result = run("demo", "--customers", "40", "--seed", "2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Demo data: 40 customers" in out
    passwords = dict(re.findall(r"│ ([a-z.]+)\s+│.*│ (demo-\w{8}) │", out))
    assert set(passwords) == {u.login for u in USERS}
    for role in BUILTIN_ROLES.values():
        if role[1] != "Administrator":
            assert role[1] in out

    kernel = Kernel(load_settings())
    try:
        with kernel.new_session() as s:
            assert s.scalar(select(func.count()).select_from(User)) == 11
            assert s.scalar(select(func.count()).select_from(Team)) == 3
            assert s.scalar(select(func.count()).select_from(Customer)) == 40
            first = s.scalar(select(func.min(col(FollowUp.occurred_at))))
            assert first is not None and first >= datetime.now(UTC) - timedelta(days=91)
        assert authenticate(kernel.ctx(), "li.na", passwords["li.na"]) is not None
    finally:
        kernel.shutdown()

    refused = run("demo", "--customers", "40")
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert refused.stderr.strip().count("\n") == 0
    assert "already loaded" in refused.stderr and "--force" in refused.stderr
    assert "demo-" not in refused.output

    forced = run("demo", "--customers", "5", "--force")
    assert forced.exit_code == 0 and "(unchanged)" in forced.stdout
    assert "demo-" not in forced.stdout

