"""Every built-in role × own / same-team / other-team customer × every customer action, through
the JSON API: read, list, search (name and phone), count, update, delete, export — no leak, no
over-block; and masked phones / ID numbers stay masked in every JSON answer.

As in ``tests/core/test_access_matrix.py`` (the expectation logic is shared in
``crm_core.testing_access``), the expectation comes only from the roles' declared default scopes in
``crm_core.permissions.catalog`` and the database is the oracle for which rows
exist. One world per module, on a database of its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from api_support import REAUTH, ApiSite, add_user, all_items, bearer
from sqlalchemy import select

from crm_core import testing_access as access
from crm_core.kernel import Kernel
from crm_core.models import Customer
from crm_core.permissions.catalog import KERNEL_ACTIONS
from crm_core.services import contacts as contacts_svc
from crm_core.services import customers as customers_svc
from crm_core.services.roles import seed_builtin_grants
from crm_core.testing import private_database, settings_for
from crm_core.testing_access import RECORDS, ROLES, declared_flag, declared_scope, permits, spaced


def refusal(role: str, action: str, record: str) -> int:
    """How the API refuses: 403 for a role without the action at all (the route says so before
    any record is looked at), else 404 for rows it can't read, 403 for rows it can."""
    if declared_scope(role, action) is None:
        return 403
    return 403 if permits(role, "customers.read", record) else 404


# --- the world ---------------------------------------------------------------------------
@dataclass
class Rec:
    customer_id: int
    name: str
    customer_id_number: str
    phone: str
    contact_id_number: str


@dataclass
class World:
    kernel: Kernel
    site: ApiSite
    headers: dict[str, dict[str, str]]
    teams: access.Teams
    base: dict[str, Rec] = field(default_factory=dict)
    doomed: dict[tuple[str, str], int] = field(default_factory=dict)

    def call(self, role: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers[role], **kwargs.pop("headers", {})}
        return self.site.request(method, path, headers=headers, **kwargs)

    def ids(self, role: str, **params: Any) -> set[int]:
        items = all_items(self.site.request, "/api/v1/customers", self.headers[role], limit=200, **params)
        return {i["id"] for i in items}

    def rec(self, role: str, record: str) -> Rec:
        return self.base[access.owner_login(role, record)]

    def expected(self, role: str, action: str) -> set[int]:
        with self.kernel.new_session() as s:
            rows = s.execute(select(Customer.id, Customer.owner_id)).all()
        return self.teams.expected(role, action, [(cid, owner) for cid, owner in rows])

    def row(self, customer_id: int) -> Customer | None:
        with self.kernel.new_session() as s:
            return s.get(Customer, customer_id)


def _customer(kernel: Kernel, n: int, name: str, owner_id: int) -> Rec:
    sys = kernel.ctx()
    phone, cust_idn, contact_idn = f"139{n:08d}", access.id_number(2 * n), access.id_number(2 * n + 1)
    c = customers_svc.create_customer(sys, {
        "name": name, "type": "individual", "id_number": cust_idn,
        "contacts": [{"name": f"联系人{n}", "phone": phone, "id_number": contact_idn}]})
    customers_svc.assign_owner(sys, [c.id], owner_id)
    return Rec(c.id, c.name, cust_idn, phone, contact_idn)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with private_database(tmp_path_factory.mktemp("api-matrix"), "crm_api_matrix") as url:
        kernel = Kernel(settings_for(url, plugin_refresh_seconds=0.0, scheduler_enabled=False,
                                     instance_dir=str(tmp_path_factory.mktemp("instance"))),
                        autoload=False, strict=True)
        site = None
        try:
            sys = kernel.ctx()
            seed_builtin_grants(sys)
            teams = access.build_teams(kernel, add_user)
            site = ApiSite(kernel)
            w = World(kernel, site, {r: bearer(kernel, access.login_of(r)) for r in ROLES}, teams)
            n = 0
            with sys.uow():
                for login, uid in teams.user_ids.items():
                    n += 1
                    w.base[login] = _customer(kernel, n, f"{login} 贸易有限公司", uid)
                for role in ROLES:
                    for record in RECORDS:
                        n += 1
                        owner = teams.user_ids[access.owner_login(role, record)]
                        w.doomed[role, record] = _customer(kernel, n, f"待删 {role} {record}",
                                                           owner).customer_id
            yield w
        finally:
            if site is not None:
                site.close()
            kernel.shutdown()


# --- the actions -------------------------------------------------------------------------
def c_get(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    response = w.call(role, "GET", f"/api/v1/customers/{rec.customer_id}")
    if permits(role, "customers.read", record):
        assert response.status_code == 200 and response.json()["id"] == rec.customer_id
    else:
        assert response.status_code == 404, response.text  # no existence leak


def c_list(w: World, role: str, record: str) -> None:
    got = w.ids(role)
    assert (w.rec(role, record).customer_id in got) == permits(role, "customers.read", record)
    access.assert_exact(got, w.expected(role, "customers.read"), "list")


def c_search_name(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    expected = {rec.customer_id} if permits(role, "customers.read", record) else set()
    access.assert_exact(w.ids(role, q=rec.name), expected, f"q={rec.name!r}")


def c_search_phone(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    visible = permits(role, "customers.read", record) and declared_flag(role, "contacts.see_phone")
    access.assert_exact(w.ids(role, q=spaced(rec.phone)), {rec.customer_id} if visible else set(), "phone")


def c_count(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    one = int(permits(role, "customers.read", record))
    counted = w.call(role, "GET", "/api/v1/customers/count", params={"q": rec.name}).json()
    assert counted == {"count": one, "exact": True}
    total = w.call(role, "GET", "/api/v1/customers/count").json()
    assert total == {"count": len(w.expected(role, "customers.read")), "exact": True}


def c_update(w: World, role: str, record: str) -> None:
    rec = w.rec(role, record)
    before = w.row(rec.customer_id)
    assert before is not None
    marker = f"{role}/{record}/{uuid.uuid4().hex[:8]}"
    response = w.call(role, "PATCH", f"/api/v1/customers/{rec.customer_id}", json={"remark": marker},
                      headers={"If-Match": f'W/"{before.version}"'})
    after = w.row(rec.customer_id)
    assert after is not None
    if permits(role, "customers.update", record):
        assert response.status_code == 200, response.text
        assert response.json()["remark"] == marker
        assert (after.remark, after.version) == (marker, before.version + 1)
    else:
        assert response.status_code == refusal(role, "customers.update", record), response.text
        assert (after.remark, after.version) == (before.remark, before.version)


def c_delete(w: World, role: str, record: str) -> None:
    cid = w.doomed[role, record]
    response = w.call(role, "DELETE", f"/api/v1/customers/{cid}", headers=REAUTH)
    if permits(role, "customers.delete", record):
        assert response.status_code == 204, response.text
        assert w.row(cid) is None
    else:
        assert response.status_code == refusal(role, "customers.delete", record), response.text
        assert w.row(cid) is not None


def c_export(w: World, role: str, record: str) -> None:
    response = w.call(role, "GET", "/api/v1/customers/export", params={"format": "jsonl"}, headers=REAUTH)
    if declared_scope(role, "customers.export") is None:
        assert response.status_code == 403 and response.json()["type"].endswith("/permission-denied")
        return
    assert response.status_code == 200, response.text
    got = [json.loads(line)["id"] for line in response.text.splitlines() if line]
    assert len(got) == len(set(got))
    assert (w.rec(role, record).customer_id in got) == permits(role, "customers.export", record)
    access.assert_exact(set(got), w.expected(role, "customers.export"), "export")


ACTIONS: dict[str, Callable[[World, str, str], None]] = {
    "get": c_get, "list": c_list, "search_name": c_search_name, "search_phone": c_search_phone,
    "count": c_count, "update": c_update, "delete": c_delete, "export": c_export,
}


@pytest.mark.parametrize(("role", "record", "action"), [
    pytest.param(role, record, action, id=f"{role}-{record}-{action}")
    for role in ROLES for record in RECORDS for action in ACTIONS
])
def test_api_access_matrix(world: World, role: str, record: str, action: str) -> None:
    ACTIONS[action](world, role, record)


def test_every_builtin_role_and_customer_action_is_covered() -> None:
    customer_actions = {a.name for a in KERNEL_ACTIONS if a.entity == "customer"}
    exercised = {"customers.read", "customers.update", "customers.delete", "customers.export"}
    # creating and assigning are covered in test_api_customers.py
    assert customer_actions - exercised == {"customers.create", "customers.assign"}
    assert set(ROLES) == {"admin", "sales_manager", "sales_rep", "service_agent", "marketing", "viewer"}


# --- masked fields -----------------------------------------------------------------------
def _answers(w: World, role: str, rec: Rec) -> dict[str, Any]:
    """Every JSON answer that carries this record's phone or ID numbers."""
    out = {
        "getCustomer": w.call(role, "GET", f"/api/v1/customers/{rec.customer_id}"),
        "listCustomers": w.call(role, "GET", "/api/v1/customers", params={"q": rec.name}),
        "listCustomerContacts": w.call(role, "GET", f"/api/v1/customers/{rec.customer_id}/contacts"),
    }
    contacts = contacts_svc.list_contacts(w.kernel.ctx(), rec.customer_id)
    out["getContact"] = w.call(role, "GET", f"/api/v1/contacts/{contacts[0].id}")
    if declared_scope(role, "customers.export"):
        out["exportCustomers"] = w.call(role, "GET", "/api/v1/customers/export",
                                        params={"format": "jsonl", "q": rec.name}, headers=REAUTH)
    return out


@pytest.mark.parametrize("role", ROLES)
def test_masked_fields_stay_masked_in_json(world: World, role: str) -> None:
    sees_phone = declared_flag(role, "contacts.see_phone")
    sees_id = declared_flag(role, "contacts.see_id_number")
    checked = 0
    for record in RECORDS:
        if not permits(role, "customers.read", record):
            continue
        rec = world.rec(role, record)
        for name, response in _answers(world, role, rec).items():
            assert response.status_code == 200, (name, response.text)
            text = response.text
            if not sees_id:
                for secret in (rec.customer_id_number, rec.contact_id_number):
                    assert secret not in text, f"{name} shows ID number {secret} to {role}"
            if not sees_phone:
                for form in (rec.phone, "+86" + rec.phone, spaced(rec.phone)):
                    assert form not in text, f"{name} shows phone {form} to {role}"
            if name == "getContact":
                body = response.json()
                assert (access.MASKED_PHONE.fullmatch(body["phone"]) is not None) == (not sees_phone)
                assert body["phone_masked"] == (not sees_phone)
                assert (access.MASKED_ID.fullmatch(body["id_number"]) is not None) == (not sees_id)
            if name == "getCustomer":
                shown = response.json()["id_number"]
                assert (shown == rec.customer_id_number) == sees_id
                assert (access.MASKED_ID.fullmatch(shown) is not None) == (not sees_id)
        checked += 1
    assert checked, f"{role} reads no customer at all"
