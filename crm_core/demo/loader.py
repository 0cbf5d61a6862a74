"""Load the demo data through the services, so audit entries and events happen as for real
users: teams and users by the system actor, each customer (with its contacts) and its
follow-ups by its owner, service call-backs by the service agents."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Protocol

from crm_core.asyncutil import resolve
from crm_core.context import Ctx
from crm_core.demo.generate import CustomerPlan, DemoGenerator
from crm_core.errors import CRMError
from crm_core.kernel import Kernel
from crm_core.permissions.actor import SYSTEM
from crm_core.permissions.catalog import BUILTIN_ROLES
from crm_core.plugin_system.host import CORE, call_impl
from crm_core.services.contacts import list_contacts
from crm_core.services.customers import create_customer
from crm_core.services.followups import create_followup
from crm_core.services.roles import list_roles
from crm_core.services.users import (
    actor_for,
    create_team,
    create_user,
    list_teams,
    list_users,
    set_membership,
)


class DemoAlreadyLoaded(CRMError):
    type = "demo-already-loaded"
    status = 409


@dataclass(frozen=True)
class DemoUser:
    login: str
    name: str
    role: str
    team: str | None = None
    locale: str = "zh_CN"
    manages: bool = False  # is the manager of ``team``


EAST, SOUTH, SERVICE = "华东销售一组", "华南销售组", "客服组"
TEAMS = (EAST, SOUTH, SERVICE)
USERS: tuple[DemoUser, ...] = (
    DemoUser("zhang.wei", "张伟", "sales_manager", EAST, manages=True),
    DemoUser("li.na", "李娜", "sales_rep", EAST),
    DemoUser("wang.fang", "王芳", "sales_rep", EAST),
    DemoUser("chen.jie", "陈杰", "sales_manager", SOUTH, manages=True),
    DemoUser("liu.yang", "刘洋", "sales_rep", SOUTH),
    DemoUser("lucas.zhao", "Lucas Zhao 赵磊", "sales_rep", SOUTH, locale="en"),
    DemoUser("sun.li", "孙丽", "service_agent", SERVICE, manages=True),
    DemoUser("zhou.qiang", "周强", "service_agent", SERVICE),
    DemoUser("he.jing", "Jing He 何静", "marketing", locale="en"),
    DemoUser("qian.hui", "钱慧", "viewer"),
)
DEMO_LOGINS = frozenset(u.login for u in USERS)
# who owns the customers of a region: (login, weight); other regions go to every seller
REGION_OWNERS: dict[str, tuple[tuple[str, int], ...]] = {
    "华东": (("zhang.wei", 1), ("li.na", 3), ("wang.fang", 3)),
    "华南": (("chen.jie", 1), ("liu.yang", 3), ("lucas.zhao", 3)),
    "港澳台": (("lucas.zhao", 3), ("chen.jie", 1)),
    "海外": (("lucas.zhao", 3), ("chen.jie", 1)),
}
BATCH = 50  # customers per transaction
ALL_SELLERS = tuple((u.login, 1 if u.role == "sales_manager" else 3) for u in USERS
                    if u.role in ("sales_manager", "sales_rep"))


class Reporter(Protocol):
    def phase(self, description: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class _Silent:
    def phase(self, description: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass
class DemoAccount:
    user: DemoUser
    password: str | None  # None: the user existed already, its password is unchanged


@dataclass
class DemoResult:
    seed: int
    accounts: list[DemoAccount] = field(default_factory=list)
    teams_created: list[str] = field(default_factory=list)
    customers: int = 0
    contacts: int = 0
    followups: int = 0
    seconds: float = 0.0


def load_demo(
    kernel: Kernel, customers: int = 500, seed: int | None = None, force: bool = False,
    reporter: Reporter | None = None, interface: str = "cli",
) -> DemoResult:
    """Create the demo teams, users, customers, contacts and follow-ups.

    Refuses (:class:`DemoAlreadyLoaded`) when demo users exist, unless ``force``: then the
    existing demo users and teams are kept and another batch of customers is added.
    The same ``seed`` gives the same data (and passwords)."""
    if customers < 0:
        raise CRMError("the number of demo customers cannot be negative")
    started = time.perf_counter()
    rep = reporter or _Silent()
    admin = kernel.ctx(SYSTEM, interface)
    roles = {r.name for r in list_roles(admin)}
    if not set(BUILTIN_ROLES) <= roles:
        raise CRMError("the built-in roles are missing: run `crm init` first")
    existing = {u.login for u, _r, _t in list_users(admin)}
    present = sorted(existing & DEMO_LOGINS)
    if present and not force:
        raise DemoAlreadyLoaded(
            f"demo data is already loaded in this database (demo users: {', '.join(present)}); "
            "use --force to add another batch of customers"
        )
    seed = secrets.randbelow(2**31) if seed is None else seed
    gen = DemoGenerator(seed, tz=kernel.settings.default_timezone)
    result = DemoResult(seed=seed)

    rep.phase("Users and teams", len(USERS) + len(TEAMS))
    passwords = {u.login: gen.password() for u in USERS}  # drawn even for existing users
    teams = {t.name for t, _m in list_teams(admin)}
    for u in sorted(USERS, key=lambda u: not u.manages):  # managers first: they found the teams
        if u.login in existing:
            result.accounts.append(DemoAccount(u, None))
        else:
            create_user(admin, {"login": u.login, "password": passwords[u.login],
                                "display_name": u.name, "locale": u.locale,
                                "timezone": kernel.settings.default_timezone},
                        roles=[u.role], team=None if u.manages else u.team)
            result.accounts.append(DemoAccount(u, passwords[u.login]))
        rep.advance()
        if u.manages and u.team and u.team not in teams:
            create_team(admin, u.team, manager=u.login)
            set_membership(admin, u.team, u.login, True)
            teams.add(u.team)
            result.teams_created.append(u.team)
            rep.advance()
    result.accounts.sort(key=lambda a: USERS.index(a.user))

    ctxs = {u.login: kernel.ctx(actor_for(admin, u.login), interface) for u in USERS}
    service = [u.login for u in USERS if u.role == "service_agent"]

    rep.phase("Customers, contacts, follow-ups", customers)
    done = 0
    while done < customers:
        batch = min(BATCH, customers - done)
        # One transaction per batch: each service call joins it (Ctx.uow nests), which saves
        # a commit per call; audit entries and events are written exactly as one by one.
        with admin.uow() as session:
            joined = {login: Ctx(kernel, c.actor, interface, _session=session)
                      for login, c in ctxs.items()}
            for _ in range(batch):
                plan = gen.customer()
                owner = gen.weighted(REGION_OWNERS.get(plan.region, ALL_SELLERS))
                gen.plan_followups(plan, english=joined[owner].actor.locale == "en")
                customer_id = _load_one(joined[owner], plan, result)
                if plan.status == "won" and gen.chance(0.25):
                    fu = gen.service_followup()
                    create_followup(joined[gen.pick(service)], {
                        "customer_id": customer_id, "method": fu.method, "occurred_at": fu.at,
                        "content": fu.content, "feedback": fu.feedback})
                    result.followups += 1
        done += batch
        rep.advance(batch)
    _plugin_demo_data(kernel, admin, seed, rep)
    result.seconds = time.perf_counter() - started
    return result


def _plugin_demo_data(kernel: Kernel, admin: Ctx, seed: int, rep: Reporter) -> None:
    """Each enabled plugin's ``load_demo_data``, dependencies first (the reverse of hook order)."""
    impls = [i for i in reversed(kernel.host.impls("load_demo_data")) if i.plugin_name != CORE]
    if not impls:
        return
    rep.phase("Plugin demo data", len(impls))
    for impl in impls:
        try:
            resolve(call_impl(impl, kernel=kernel, ctx=admin, seed=seed))
        except CRMError:
            raise
        except Exception as exc:
            raise CRMError(f"plugin {impl.plugin_name} could not load its demo data: {exc}") from exc
        rep.advance()


def _load_one(ctx: Ctx, plan: CustomerPlan, result: DemoResult) -> int:
    """The customer with its contacts in one call, then its follow-ups; returns its id."""
    customer = create_customer(ctx, plan.data)
    result.customers += 1
    result.contacts += len(plan.data["contacts"])
    if not plan.followups:
        return customer.id
    contact_ids = [c.id for c in list_contacts(ctx, customer.id)]
    for fu in plan.followups:
        create_followup(ctx, {
            "customer_id": customer.id,
            "contact_id": contact_ids[fu.contact_index] if fu.contact_index is not None else None,
            "method": fu.method, "occurred_at": fu.at, "content": fu.content,
            "feedback": fu.feedback, "next_step": fu.next_step, "next_step_due": fu.next_step_due,
        })
        result.followups += 1
    return customer.id
