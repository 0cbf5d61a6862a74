"""Every built-in role × own / same-team / other-team record × every kernel action.

The expected outcome comes from the roles' *declared* default scopes in
``crm_core.permissions.catalog`` (own → own records, team → own + same team, all → all,
missing → none; the logic is shared with the API matrix in ``crm_core.testing_access``) and the
database itself is the oracle for which rows exist; the permission engine is only ever exercised
through the services. Every call must return or change exactly the permitted rows: no leak, no
over-block.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from crm_core.context import Ctx
from crm_core.errors import NotFound, PermissionDenied
from crm_core.kernel import Kernel
from crm_core.models import Contact, Customer, FollowUp
from crm_core.permissions.actor import Actor
from crm_core.permissions.catalog import KERNEL_ACTIONS
from crm_core.services import contacts as contacts_svc
from crm_core.services import customers as customers_svc
from crm_core.services import followups as followups_svc
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import actor_for
from crm_core.testing import private_database, settings_for
from crm_core.testing_access import (
    MASKED_ID,
    MASKED_PHONE,
    RECORDS,
    ROLES,
    Teams,
    assert_exact,
    build_teams,
    declared_flag,
    declared_scope,
    id_number,
    login_of,
    owner_login,
    permits,
    spaced,
)


def denial(role: str, read_action: str, record: str) -> type[Exception]:
    """What refusing a record looks like: unreadable rows don't exist for the actor."""
    return PermissionDenied if permits(role, read_action, record) else NotFound


# --- the world ---------------------------------------------------------------------------
@dataclass
class Rec:
    customer_id: int
    name: str
    customer_id_number: str
    contact_id: int
    phone: str  # national form, e.g. 13900000001
    contact_id_number: str
    followup_id: int


@dataclass
class World:
    kernel: Kernel
    actors: dict[str, Actor]
    teams: Teams
    base: dict[str, Rec] = field(default_factory=dict)  # owner login → record
    doomed_customers: dict[tuple[str, str], int] = field(default_factory=dict)
    doomed_contacts: dict[tuple[str, str], int] = field(default_factory=dict)
    doomed_followups: dict[tuple[str, str], int] = field(default_factory=dict)
    serial: int = 0

    def ctx(self, role: str) -> Ctx:
        return self.kernel.ctx(self.actors[role], "web")

    def next_phone(self) -> str:
        self.serial += 1
        return f"137{self.serial:08d}"

    def rec(self, role: str, record: str) -> Rec:
        return self.base[owner_login(role, record)]

    # the database as the oracle: which rows exist, and whose they are
    def _rows(self, stmt: Any) -> list[Any]:
        with self.kernel.new_session() as s:
            return list(s.execute(stmt).all())

    def expected_customers(self, role: str, action: str) -> set[int]:
        return self.teams.expected(role, action, self._rows(select(Customer.id, Customer.owner_id)))

    def expected_followups(self, role: str, action: str) -> set[int]:
        return self.teams.expected(role, action, self._rows(
            select(FollowUp.id, Customer.owner_id).join(Customer, Customer.id == FollowUp.customer_id)))

    def contacts_of(self, customer_id: int) -> set[int]:
        return {r[0] for r in self._rows(select(Contact.id).where(Contact.customer_id == customer_id))}

    def followups_of(self, customer_id: int) -> set[int]:
        return {r[0] for r in self._rows(
            select(FollowUp.id).where(FollowUp.customer_id == customer_id))}

    def row(self, model: Any, row_id: int) -> Any:
        with self.kernel.new_session() as s:
            return s.get(model, row_id)


def _make_customer(w: World, sys: Ctx, name: str, owner: str) -> Rec:
    w.serial += 1
    n = w.serial
    phone, cust_idn, contact_idn = f"139{n:08d}", id_number(2 * n), id_number(2 * n + 1)
    c = customers_svc.create_customer(sys, {
        "name": name, "type": "individual", "id_number": cust_idn,
        "contacts": [{"name": f"联系人{n}", "phone": phone, "id_number": contact_idn,
                      "email": f"p{n}@example.com"}],
    })
    customers_svc.assign_owner(sys, [c.id], w.teams.user_ids[owner])
    contact = contacts_svc.list_contacts(sys, c.id)[0]
    fu = followups_svc.create_followup(sys, {"customer_id": c.id, "content": f"首次拜访 {n}"})
    return Rec(c.id, c.name, cust_idn, contact.id, phone, contact_idn, fu.id)


def build_world(kernel: Kernel, add_user: Callable[..., Actor]) -> World:
    sys = kernel.ctx()
    seed_builtin_grants(sys)
    teams = build_teams(kernel, add_user)
    actors = {role: actor_for(sys, login_of(role)) for role in ROLES}
    w = World(kernel, actors, teams)
    with sys.uow():  # the services join one transaction: the world is built in one commit
        _make_records(w, sys)
    return w


def _make_records(w: World, sys: Ctx) -> None:
    for login in w.teams.user_ids:
        w.base[login] = _make_customer(w, sys, f"{login} 贸易有限公司", login)
    for role in ROLES:
        for record in RECORDS:
            owner = owner_login(role, record)
            w.doomed_customers[role, record] = _make_customer(
                w, sys, f"待删 {role} {record}", owner).customer_id
            base = w.base[owner]
            w.doomed_contacts[role, record] = contacts_svc.create_contact(sys, {
                "customer_id": base.customer_id, "name": f"待删 {role}", "phone": w.next_phone(),
            }).id
            w.doomed_followups[role, record] = followups_svc.create_followup(sys, {
                "customer_id": base.customer_id, "content": f"待删 {role} {record}"}).id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, helpers: Any) -> Iterator[World]:
    with private_database(tmp_path_factory.mktemp("matrix"), "crm_matrix") as url:
        kernel = Kernel(settings_for(url, plugin_refresh_seconds=0.0), autoload=False, strict=True)
        try:
            yield build_world(kernel, helpers.add_user)
        finally:
            kernel.shutdown()


# --- helpers -----------------------------------------------------------------------------
def all_customer_ids(ctx: Ctx, **query: Any) -> set[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = customers_svc.list_customers(ctx, {**query, "limit": 200, "cursor": cursor})
        seen.extend(c.id for c in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a customer was listed twice"
    return set(seen)


def all_timeline_ids(ctx: Ctx, customer_id: int | None = None) -> set[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = followups_svc.timeline(ctx, customer_id, cursor=cursor, limit=200)
        seen.extend(f.id for f in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a follow-up was listed twice"
    return set(seen)


# --- customers ---------------------------------------------------------------------------
def c_get(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    if permits(role, "customers.read", record):
        assert customers_svc.get_customer(w.ctx(role), rec.customer_id).id == rec.customer_id
    else:
        with pytest.raises(NotFound):
            customers_svc.get_customer(w.ctx(role), rec.customer_id)


def c_list(w: World, role: str, record: str) -> None:
    got = all_customer_ids(w.ctx(role))
    rec = w.rec(role, record)
    assert (rec.customer_id in got) == permits(role, "customers.read", record)
    assert_exact(got, w.expected_customers(role, "customers.read"), "list_customers")


def c_search_name(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    got = all_customer_ids(w.ctx(role), q=rec.name)
    expected = {rec.customer_id} if permits(role, "customers.read", record) else set()
    assert_exact(got, expected, f"q={rec.name!r}")


def c_search_phone(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    got = all_customer_ids(w.ctx(role), q=spaced(rec.phone))
    visible = permits(role, "customers.read", record) and declared_flag(role, "contacts.see_phone")
    assert_exact(got, {rec.customer_id} if visible else set(), f"q={spaced(rec.phone)!r}")


def c_count(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    one = int(permits(role, "customers.read", record))
    assert customers_svc.count_customers(w.ctx(role), {"q": rec.name}) == (one, True)
    expected = len(w.expected_customers(role, "customers.read"))
    assert customers_svc.count_customers(w.ctx(role)) == (expected, True)


def c_update(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    before = w.row(Customer, rec.customer_id)
    marker = f"{role}/{record}/{uuid.uuid4().hex[:8]}"
    if permits(role, "customers.update", record):
        out = customers_svc.update_customer(w.ctx(role), rec.customer_id, {"remark": marker})
        assert out.remark == marker
        after = w.row(Customer, rec.customer_id)
        assert (after.remark, after.version) == (marker, before.version + 1)
    else:
        with pytest.raises(denial(role, "customers.read", record)):
            customers_svc.update_customer(w.ctx(role), rec.customer_id, {"remark": marker})
        after = w.row(Customer, rec.customer_id)
        assert (after.remark, after.version) == (before.remark, before.version)


def c_delete(w: World, role: str, record: str) -> None:
    cid = w.doomed_customers[role, record]
    if permits(role, "customers.delete", record):
        customers_svc.delete_customer(w.ctx(role), cid)
        assert w.row(Customer, cid) is None
    else:
        with pytest.raises(denial(role, "customers.read", record)):
            customers_svc.delete_customer(w.ctx(role), cid)
        assert w.row(Customer, cid) is not None


def c_export(w: World, role: str, record: str) -> None:
    if declared_scope(role, "customers.export") is None:
        with pytest.raises(PermissionDenied):  # refused when asked, before anything streams
            customers_svc.export_customers(w.ctx(role))
        return
    got = {c.id for c in customers_svc.export_customers(w.ctx(role), batch=7)}
    rec = w.rec(role, record)
    assert (rec.customer_id in got) == permits(role, "customers.export", record)
    assert_exact(got, w.expected_customers(role, "customers.export"), "export_customers")


# --- contacts ----------------------------------------------------------------------------
def k_get(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    if permits(role, "contacts.read", record):
        assert contacts_svc.get_contact(w.ctx(role), rec.contact_id).id == rec.contact_id
    else:
        with pytest.raises(NotFound):
            contacts_svc.get_contact(w.ctx(role), rec.contact_id)


def k_list(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    if not permits(role, "customers.read", record):
        with pytest.raises(NotFound):
            contacts_svc.list_contacts(w.ctx(role), rec.customer_id)
        return
    got = {c.id for c in contacts_svc.list_contacts(w.ctx(role), rec.customer_id)}
    expected = w.contacts_of(rec.customer_id) if permits(role, "contacts.read", record) else set()
    assert_exact(got, expected, "list_contacts")


def k_create(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    before = w.contacts_of(rec.customer_id)
    data = {"customer_id": rec.customer_id, "name": f"新联系人 {role}", "phone": w.next_phone()}
    if permits(role, "contacts.create", record):
        made = contacts_svc.create_contact(w.ctx(role), data)
        assert w.contacts_of(rec.customer_id) == before | {made.id}
    else:
        with pytest.raises(denial(role, "customers.read", record)):
            contacts_svc.create_contact(w.ctx(role), data)
        assert w.contacts_of(rec.customer_id) == before


def k_update(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    before = w.row(Contact, rec.contact_id)
    marker = f"{role}/{record}"
    if permits(role, "contacts.update", record):
        contacts_svc.update_contact(w.ctx(role), rec.contact_id, {"title": marker})
        after = w.row(Contact, rec.contact_id)
        assert (after.title, after.version) == (marker, before.version + 1)
    else:
        with pytest.raises(denial(role, "contacts.read", record)):
            contacts_svc.update_contact(w.ctx(role), rec.contact_id, {"title": marker})
        after = w.row(Contact, rec.contact_id)
        assert (after.title, after.version) == (before.title, before.version)


def k_delete(w: World, role: str, record: str) -> None:
    contact_id = w.doomed_contacts[role, record]
    if permits(role, "contacts.delete", record):
        contacts_svc.delete_contact(w.ctx(role), contact_id)
        assert w.row(Contact, contact_id) is None
    else:
        with pytest.raises(denial(role, "contacts.read", record)):
            contacts_svc.delete_contact(w.ctx(role), contact_id)
        assert w.row(Contact, contact_id) is not None


# --- follow-ups --------------------------------------------------------------------------
def f_get(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    if permits(role, "followups.read", record):
        assert followups_svc.get_followup(w.ctx(role), rec.followup_id).id == rec.followup_id
    else:
        with pytest.raises(NotFound):
            followups_svc.get_followup(w.ctx(role), rec.followup_id)


def f_timeline(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    assert_exact(all_timeline_ids(w.ctx(role)), w.expected_followups(role, "followups.read"),
                 "timeline (all)")
    if not permits(role, "customers.read", record):
        with pytest.raises(NotFound):
            followups_svc.timeline(w.ctx(role), rec.customer_id)
        return
    got = all_timeline_ids(w.ctx(role), rec.customer_id)
    expected = w.followups_of(rec.customer_id) if permits(role, "followups.read", record) else set()
    assert_exact(got, expected, "timeline (customer)")


def f_create(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    before = w.followups_of(rec.customer_id)
    data = {"customer_id": rec.customer_id, "content": f"电话回访 {role}", "method": "phone"}
    if permits(role, "followups.create", record):
        made = followups_svc.create_followup(w.ctx(role), data)
        assert made.user_id == w.actors[role].id
        assert w.followups_of(rec.customer_id) == before | {made.id}
    else:
        with pytest.raises(denial(role, "customers.read", record)):
            followups_svc.create_followup(w.ctx(role), data)
        assert w.followups_of(rec.customer_id) == before


def f_update(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    before = w.row(FollowUp, rec.followup_id)
    marker = f"更新 {role}/{record}"
    if permits(role, "followups.update", record):
        followups_svc.update_followup(w.ctx(role), rec.followup_id, {"content": marker})
        after = w.row(FollowUp, rec.followup_id)
        assert (after.content, after.version) == (marker, before.version + 1)
    else:
        with pytest.raises(denial(role, "followups.read", record)):
            followups_svc.update_followup(w.ctx(role), rec.followup_id, {"content": marker})
        after = w.row(FollowUp, rec.followup_id)
        assert (after.content, after.version) == (before.content, before.version)


def f_delete(w: World, role: str, record: str) -> None:
    fid = w.doomed_followups[role, record]
    if permits(role, "followups.delete", record):
        followups_svc.delete_followup(w.ctx(role), fid)
        assert w.row(FollowUp, fid) is None
    else:
        with pytest.raises(denial(role, "followups.read", record)):
            followups_svc.delete_followup(w.ctx(role), fid)
        assert w.row(FollowUp, fid) is not None


ACTIONS: dict[str, Callable[[World, str, str], None]] = {
    "customer.get": c_get, "customer.list": c_list, "customer.search_name": c_search_name,
    "customer.search_phone": c_search_phone, "customer.count": c_count,
    "customer.update": c_update, "customer.delete": c_delete, "customer.export": c_export,
    "contact.get": k_get, "contact.list": k_list, "contact.create": k_create,
    "contact.update": k_update, "contact.delete": k_delete,
    "followup.get": f_get, "followup.timeline": f_timeline, "followup.create": f_create,
    "followup.update": f_update, "followup.delete": f_delete,
}


@pytest.mark.parametrize(("role", "record", "action"), [
    pytest.param(role, record, action, id=f"{role}-{record}-{action}")
    for role in ROLES for record in RECORDS for action in ACTIONS
])
def test_access_matrix(world: World, role: str, record: str, action: str) -> None:
    ACTIONS[action](world, role, record)


def test_every_builtin_role_and_record_action_is_covered() -> None:
    """A new built-in role or kernel record action must join the matrix above."""
    record_actions = {a.name for a in KERNEL_ACTIONS if a.entity}
    exercised = {"customers.read", "customers.update", "customers.delete", "customers.export",
                 "contacts.read", "contacts.create", "contacts.update", "contacts.delete",
                 "followups.read", "followups.create", "followups.update", "followups.delete"}
    # creating and assigning customers are covered in test_services_customers.py
    assert record_actions - exercised == {"customers.create", "customers.assign"}
    assert set(ROLES) == {"admin", "sales_manager", "sales_rep", "service_agent", "marketing",
                          "viewer"}


# --- masked fields -----------------------------------------------------------------------
def _read_paths(w: World, role: str) -> dict[str, Callable[[Rec], list[Any]]]:
    ctx = w.ctx(role)
    return {
        "get_customer": lambda r: [customers_svc.get_customer(ctx, r.customer_id)],
        "list_customers": lambda r: customers_svc.list_customers(ctx, {"q": r.name}).items,
        "export_customers": lambda r: list(customers_svc.export_customers(ctx, {"q": r.name})),
        "get_contact": lambda r: [contacts_svc.get_contact(ctx, r.contact_id)],
        "list_contacts": lambda r: contacts_svc.list_contacts(ctx, r.customer_id),
    }


PATH_ACTION = {"get_customer": "customers.read", "list_customers": "customers.read",
               "export_customers": "customers.export", "get_contact": "contacts.read",
               "list_contacts": "contacts.read"}


@pytest.mark.parametrize(("role", "path"), [
    pytest.param(role, path, id=f"{role}-{path}") for role in ROLES for path in PATH_ACTION
])
def test_masked_fields_never_appear_in_plain_text(world: World, role: str, path: str) -> None:
    sees_phone = declared_flag(role, "contacts.see_phone")
    sees_id = declared_flag(role, "contacts.see_id_number")
    read = _read_paths(world, role)[path]
    checked = 0
    for record in RECORDS:
        if not permits(role, PATH_ACTION[path], record):
            continue
        rec = world.rec(role, record)
        items = read(rec)
        assert items, f"{path} returned nothing for a readable {record} record"
        dump = " ".join(item.model_dump_json() for item in items)
        secrets = [rec.contact_id_number, rec.customer_id_number]
        for secret in secrets:
            # plain text is there exactly when the role may see it (in any item of this path)
            if not sees_id:
                assert secret not in dump, f"{path} shows ID number {secret} to {role}"
        if not sees_phone:
            for form in (rec.phone, "+86" + rec.phone, spaced(rec.phone)):
                assert form not in dump, f"{path} shows phone {form} to {role}"
        for item in items:
            shown_id = item.id_number
            if shown_id is not None:
                assert (MASKED_ID.fullmatch(shown_id) is None) == sees_id, shown_id
            if path in ("get_contact", "list_contacts") and item.phone is not None:
                assert (MASKED_PHONE.fullmatch(item.phone) is not None) == (not sees_phone)
                assert item.phone_masked == (not sees_phone)
        if path == "get_customer":
            assert (items[0].id_number == rec.customer_id_number) == sees_id
        if path == "get_contact":
            shown_phone = items[0].phone
            assert shown_phone == (rec.phone if sees_phone else rec.phone[:3] + "****" + rec.phone[-4:])
        checked += 1
    if checked == 0:  # no readable record on this path: the path itself must refuse
        with pytest.raises((PermissionDenied, NotFound)):
            read(world.rec(role, "own"))


@pytest.mark.parametrize("role", [r for r in ROLES if not declared_flag(r, "contacts.see_phone")])
def test_roles_without_phone_access_cannot_find_customers_by_phone(world: World, role: str) -> None:
    rec = world.rec(role, "same_team")
    assert permits(role, "customers.read", "same_team")  # it can read the customer…
    ctx = world.ctx(role)
    for q in (rec.phone, spaced(rec.phone), "+86 " + rec.phone, "0086-" + rec.phone,
              "８６" + rec.phone):
        assert all_customer_ids(ctx, q=q) == set(), q  # …but not find it by its phone
        assert customers_svc.count_customers(ctx, {"q": q}) == (0, True)
    if declared_scope(role, "customers.export"):
        assert list(customers_svc.export_customers(ctx, {"q": rec.phone})) == []
    assert customers_svc.find_matches(ctx, phone=rec.phone) == []
    # the same probe works for a role that may see phones
    rep = world.ctx("sales_manager")
    assert all_customer_ids(rep, q=spaced(rec.phone)) == {rec.customer_id}
    assert [m.customer_id for m in customers_svc.find_matches(rep, phone=spaced(rec.phone))] == [
        rec.customer_id]
