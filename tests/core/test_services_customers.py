"""Customer services: validation, authorisation, optimistic locking, audit + outbox, codes,
keyset pages, filters, search, counts, cascades and owner assignment."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from crm_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.models import AuditEntry, Contact, Customer, FollowUp, OutboxEvent
from crm_core.plugin_system.manifest import Manifest
from crm_core.services import contacts as contacts_svc
from crm_core.services import followups as followups_svc
from crm_core.services.base import encode_cursor
from crm_core.services.customers import (
    assign_owner,
    count_customers,
    create_customer,
    delete_customer,
    export_customers,
    get_customer,
    list_customers,
    update_customer,
)
from crm_core.services.roles import create_role, set_user_roles
from crm_core.services.users import actor_for, create_team, set_membership


def ids(page: Any) -> list[int]:
    return [c.id for c in page.items]


def q_ids(ctx: Any, **query: Any) -> set[int]:
    return {c.id for c in list_customers(ctx, {**query, "limit": 200}).items}


# --- validation ----------------------------------------------------------------------------
INVALID_CREATES: list[tuple[dict[str, Any], str]] = [
    ({"name": "  "}, "name"),
    ({"name": "Acme", "status": "bogus"}, "status"),
    ({"name": "Acme", "type": "alien"}, "type"),
    ({"name": "Acme", "industry": "ZZ"}, "industry"),
    ({"name": "Acme", "source": "telepathy"}, "source"),
    ({"name": "Acme", "id_number": "110105194912310021"}, "id_number"),
    ({"name": "Acme", "first_contact_date": "yesterday"}, "first_contact_date"),
    ({"name": "Acme", "remark": "长" * 2001}, "remark"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Acme", "contacts": [{"name": "张三", "phone": "1381234567"}]}, "contacts.0.phone"),
    ({"name": "Acme", "contacts": [{"name": "张三", "email": "zhang@"}]}, "contacts.0.email"),
    ({"name": "Acme", "contacts": [{"name": ""}]}, "contacts.0.name"),
    ({"name": "Acme", "custom": {"nope": 1}}, "custom.nope"),  # checked inside the transaction
    ({"name": "Acme", "contacts": [{"name": "A"}, {"name": "B", "custom": {"nope": 1}}]},
     "contacts.1.custom.nope"),  # … after the customer row was flushed
]


def refusals(attempt: Any, cases: list[tuple[Any, str]], helpers: Any, kernel: Kernel) -> list[str]:
    """Run each refused attempt; describe every case that was not refused cleanly (a validation
    error naming the field, in the message too, and nothing written)."""
    wrong = []
    for data, field in cases:
        before = helpers.snapshot(kernel)
        try:
            attempt(data)
            wrong.append(f"{data}: accepted")
        except ValidationError as exc:
            if field not in exc.errors or field not in str(exc) or not all(exc.errors.values()):
                wrong.append(f"{data}: errors {exc.errors}, want {field}")
        if helpers.snapshot(kernel) != before:
            wrong.append(f"{data}: wrote something")
    return wrong


def test_invalid_customers_are_refused_with_field_names_and_write_nothing(
    crm: Kernel, helpers: Any
) -> None:
    assert refusals(lambda d: create_customer(crm.ctx(), d), INVALID_CREATES, helpers, crm) == []
    code = create_customer(crm.ctx(), {"name": "Next"}).code
    assert code.endswith("001")  # the refused writes did not even use up a code


PROTECTED = ["owner_id", "code", "version", "id", "created_by_id", "created_at", "last_followup_at",
             "id_number_enc", "updated_at"]


def test_owner_code_and_version_cannot_be_mass_assigned(crm: Kernel, helpers: Any) -> None:
    c = create_customer(crm.ctx(), {"name": "Acme"})
    for field in PROTECTED:
        value = "2024-01-01T00:00:00" if field.endswith("_at") else (
            "C20240101001" if field == "code" else 1)
        before = helpers.snapshot(crm)
        with pytest.raises(ValidationError) as exc:
            create_customer(crm.ctx(), {"name": "Acme", field: value})
        assert exc.value.errors == {field: ["this field cannot be set here"]}
        with pytest.raises(ValidationError) as exc:
            update_customer(crm.ctx(), c.id, {"remark": "x", field: value})
        assert exc.value.errors == {field: ["this field cannot be set here"]}
        assert helpers.snapshot(crm) == before
    assert get_customer(crm.ctx(), c.id).version == 1


INVALID_UPDATES: list[tuple[dict[str, Any], str]] = [
    ({"name": None}, "name"), ({"status": None}, "status"), ({"type": None}, "type"),
    ({"status": "bogus"}, "status"), ({"name": ""}, "name"), ({"custom": {"nope": 1}}, "custom.nope"),
    ({"id_number": "123"}, "id_number"),
    # the create limits hold on update too (PostgreSQL would refuse the value with a 500)
    ({"remark": "长" * 2001}, "remark"), ({"address": "x" * 301}, "address"),
    ({"website": "x" * 201}, "website"), ({"region": "x" * 33}, "region"),
]


def test_invalid_updates_change_nothing(crm: Kernel, helpers: Any) -> None:
    c = create_customer(crm.ctx(), {"name": "Acme", "status": "won"})
    attempt = lambda d: update_customer(crm.ctx(), c.id, d, version=1)  # noqa: E731
    assert refusals(attempt, INVALID_UPDATES, helpers, crm) == []
    after = get_customer(crm.ctx(), c.id)
    assert (after.name, after.status, after.version) == ("Acme", "won", 1)


def test_input_is_normalised(crm: Kernel) -> None:
    c = create_customer(crm.ctx(), {
        "name": "  ＡＣＭＥ　 科技  ", "industry": "I", "source": "website",
        "contacts": [{"name": "张三", "phone": "138 1234 5678", "email": " Zhang@Example.COM "}],
    })
    assert c.name == "ACME 科技"
    [contact] = contacts_svc.list_contacts(crm.ctx(), c.id)
    assert (contact.phone, contact.email, contact.is_primary) == ("13812345678", "zhang@example.com", True)


# --- optimistic locking --------------------------------------------------------------------
def test_stale_version_is_a_conflict_and_changes_nothing(crm: Kernel, helpers: Any) -> None:
    c = create_customer(crm.ctx(), {"name": "Acme"})
    assert update_customer(crm.ctx(), c.id, {"remark": "first"}, version=1).version == 2
    before = helpers.snapshot(crm)
    with pytest.raises(Conflict) as exc:
        update_customer(crm.ctx(), c.id, {"remark": "second"}, version=1)
    assert exc.value.extra["current_version"] == 2
    with pytest.raises(Conflict):
        delete_customer(crm.ctx(), c.id, version=1)
    assert helpers.snapshot(crm) == before
    now = get_customer(crm.ctx(), c.id)
    assert (now.remark, now.version) == ("first", 2)
    delete_customer(crm.ctx(), c.id, version=2)
    with pytest.raises(NotFound):
        get_customer(crm.ctx(), c.id)


class SlowValidator:
    """Holds each customer write open for a moment, so two writers really overlap."""

    @hookimpl
    def validate_entity(self, kernel: Any, ctx: Any, entity: str, data: dict[str, Any],
                        existing: Any) -> None:
        if entity == "customer" and str(data.get("remark") or "").startswith("writer"):
            time.sleep(0.3)


def test_concurrent_updates_with_the_same_version_exactly_one_wins(make_kernel: Any, helpers: Any) -> None:
    k = make_kernel(plugins=[Manifest(name="slowval", version="1.0", hooks=SlowValidator())],
                    enabled=["slowval"])
    c = create_customer(k.ctx(), {"name": "Race"})
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def writer(name: str) -> None:
        ctx = k.ctx(interface="api")  # its own context, hence its own session and transaction
        barrier.wait()
        try:
            update_customer(ctx, c.id, {"remark": name}, version=1)
            results[name] = "won"
        except Conflict:
            results[name] = "conflict"
        except Exception as exc:  # anything else is a failure of the test, not of the thread
            results[name] = repr(exc)

    threads = [threading.Thread(target=writer, args=(f"writer-{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["conflict", "won"], results
    winner = next(n for n, r in results.items() if r == "won")
    now = get_customer(k.ctx(), c.id)
    assert (now.remark, now.version) == (winner, 2)
    assert len(helpers.audit_entries(k, AuditEntry.action == "customer.update")) == 1
    assert len(helpers.outbox_rows(k, OutboxEvent.name == "customer.updated")) == 1


# --- audit and outbox ----------------------------------------------------------------------
def test_every_write_leaves_one_audit_entry_and_one_outbox_row(crm: Kernel, helpers: Any) -> None:
    rep = helpers.add_user(crm, "rep", "sales_manager")
    ctx = crm.ctx(rep, "api")

    def check(action: str, event: str, entity_id: int, changes: dict[str, list[Any]]) -> None:
        [entry] = helpers.audit_entries(crm, AuditEntry.action == action)
        assert (entry.actor_id, entry.actor_login, entry.interface) == (rep.id, "rep", "api")
        assert (entry.entity, entry.entity_id) == ("customer", entity_id)
        for k, v in changes.items():
            assert entry.changes[k] == v, (k, entry.changes)
        [ev] = helpers.outbox_rows(crm, OutboxEvent.name == event)
        assert (ev.entity, ev.entity_id, ev.actor_id) == ("customer", entity_id, rep.id)

    c = create_customer(ctx, {"name": "Acme", "id_number": "11010519491231002X",
                              "contacts": [{"name": "张三", "phone": "13812345678"}]})
    check("customer.create", "customer.created", c.id, {"name": [None, "Acme"]})
    mine_a, mine_o = AuditEntry.actor_id == rep.id, OutboxEvent.actor_id == rep.id
    assert helpers.count(crm, AuditEntry, mine_a) == 1  # the contact came with the customer
    assert helpers.count(crm, OutboxEvent, mine_o) == 1
    update_customer(ctx, c.id, {"status": "won", "remark": "签约"}, version=1)
    check("customer.update", "customer.updated", c.id,
          {"status": ["potential", "won"], "remark": [None, "签约"]})
    update_customer(ctx, c.id, {"status": "won"})  # no change: nothing to audit
    assert helpers.count(crm, AuditEntry, mine_a) == 2
    delete_customer(ctx, c.id, version=2)
    check("customer.delete", "customer.deleted", c.id, {"name": ["Acme", None]})
    assert helpers.count(crm, AuditEntry, mine_a) == helpers.count(crm, OutboxEvent, mine_o) == 3
    # secrets never reach the audit log or the events
    for row in [*helpers.audit_entries(crm), *helpers.outbox_rows(crm)]:
        text = repr(getattr(row, "changes", None)) + repr(getattr(row, "payload", None))
        assert "13812345678" not in text and "11010519491231002X" not in text


def test_audit_and_event_share_the_write_transaction(crm: Kernel, helpers: Any) -> None:
    ctx = crm.ctx(interface="api")
    before = helpers.snapshot(crm)
    with pytest.raises(RuntimeError), ctx.uow():
        create_customer(ctx, {"name": "Rolled back", "contacts": [{"name": "张三"}]})
        assert helpers.snapshot(crm) == before  # not visible outside before commit
        raise RuntimeError("the caller's transaction fails after the service returned")
    assert helpers.snapshot(crm) == before  # customer, contact, audit entry, event: all gone
    create_customer(ctx, {"name": "Committed"})
    assert helpers.snapshot(crm)["crm_audit"] == before["crm_audit"] + 1


class Vetoer:
    @hookimpl
    def validate_entity(self, kernel: Any, ctx: Any, entity: str, data: dict[str, Any],
                        existing: Any) -> dict[str, list[str]] | None:
        for key in ("name", "remark", "content"):
            if "VETO" in str(data.get(key) or ""):
                return {key: [f"{entity} refused by policy"]}
        return None


def test_a_failing_validate_entity_hook_refuses_the_write_and_leaves_nothing(
    make_kernel: Any, helpers: Any
) -> None:
    k = make_kernel(plugins=[Manifest(name="vetoer", version="1.0", hooks=Vetoer())],
                    enabled=["vetoer"])
    ctx = k.ctx()
    c = create_customer(ctx, {"name": "Fine", "contacts": [{"name": "张三"}]})
    [contact] = contacts_svc.list_contacts(ctx, c.id)
    before = helpers.snapshot(k)
    attempts = [
        (lambda: create_customer(ctx, {"name": "VETO Corp"}), "name"),
        (lambda: create_customer(ctx, {"name": "OK", "contacts": [{"name": "VETO"}]}),
         "contacts.0.name"),
        (lambda: update_customer(ctx, c.id, {"remark": "VETO"}), "remark"),
        (lambda: contacts_svc.create_contact(ctx, {"customer_id": c.id, "name": "VETO"}), "name"),
        (lambda: contacts_svc.update_contact(ctx, contact.id, {"remark": "VETO"}), "remark"),
        (lambda: followups_svc.create_followup(ctx, {"customer_id": c.id, "content": "VETO"}),
         "content"),
    ]
    for attempt, field in attempts:
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert field in exc.value.errors, exc.value.errors
        assert "refused by policy" in exc.value.errors[field][0]
    assert helpers.snapshot(k) == before
    assert get_customer(ctx, c.id).remark is None


# --- codes -----------------------------------------------------------------------------------
def test_customer_codes_are_dated_sequential_and_unique_under_concurrency(crm: Kernel) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    codes = [create_customer(crm.ctx(), {"name": f"Seq {i}"}).code for i in range(12)]
    for code in codes:
        assert re.fullmatch(r"C\d{8}\d{3}", code), code
    assert codes[0][1:9] in {f"{today:%Y%m%d}", f"{today + timedelta(days=1):%Y%m%d}"}
    assert [int(c[-3:]) for c in codes] == list(range(1, 13))

    made: list[str] = []
    errors: list[BaseException] = []

    def burst() -> None:
        try:
            for i in range(8):
                made.append(create_customer(crm.ctx(), {"name": f"Burst {i}"}).code)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(made) == len(set(made)) == 32
    assert not set(made) & set(codes)


# --- keyset pages ----------------------------------------------------------------------------
def test_keyset_pages_return_every_row_exactly_once(crm: Kernel) -> None:
    ctx = crm.ctx()
    with ctx.uow():  # one commit for the setup
        for i in range(120):  # names repeat: ties must be broken by id across page boundaries
            create_customer(ctx, {"name": f"客户{i % 40:02d}"})
    every = {c.id for c in export_customers(ctx)}
    assert len(every) == 120
    for sort in ("-id", "name", "-created_at", "id", "-name", "created_at", "code", "-updated_at"):
        seen: list[Any] = []
        sizes = []
        cursor = None
        while True:
            page = list_customers(ctx, {"sort": sort, "limit": 50, "cursor": cursor})
            seen.extend(page.items)
            sizes.append(len(page.items))
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sizes == [50, 50, 20], sort
        assert [c.id for c in seen] == list(dict.fromkeys(c.id for c in seen)), f"{sort}: repeats"
        assert {c.id for c in seen} == every, sort
        field, desc = sort.lstrip("-"), sort.startswith("-")
        keys = [(getattr(c, field), c.id) for c in seen]
        assert keys == sorted(keys, reverse=desc), f"{sort}: out of order"


BAD_QUERIES: list[dict[str, Any]] = [
    {"sort": "remark"}, {"sort": "-owner_id"}, {"sort": "id_number"},
    {"limit": 0}, {"limit": 201}, {"limit": -1},
    {"cursor": "not-a-cursor!"}, {"cursor": encode_cursor([1, 2, 3])},
    {"cursor": encode_cursor(["x"])}, {"cursor": encode_cursor([True])},
    {"sort": "name", "cursor": encode_cursor([5, 1])},
    {"sort": "-created_at", "cursor": encode_cursor(["yesterday", 1])},
    {"sort": "-created_at", "cursor": encode_cursor([12, 1])},
    {"sort": "name", "cursor": encode_cursor(["a", "b"])},
    {"owner": "someone"}, {"status": "bogus"}, {"unknown": 1},
]


def test_bad_list_parameters_are_validation_errors(crm: Kernel) -> None:
    create_customer(crm.ctx(), {"name": "Acme"})
    wrong = []
    for query in BAD_QUERIES:
        try:
            list_customers(crm.ctx(), query)
            wrong.append(f"{query}: accepted")
        except ValidationError as exc:
            if not set(exc.errors) & {"sort", "limit", "cursor", "owner", "status", "unknown"}:
                wrong.append(f"{query}: unclear errors {exc.errors}")
        except Exception as exc:
            wrong.append(f"{query}: {exc!r}")
    assert wrong == []


def test_limit_bounds_are_inclusive(crm: Kernel) -> None:
    create_customer(crm.ctx(), {"name": "Acme"})
    assert len(list_customers(crm.ctx(), {"limit": 1}).items) == 1
    assert list_customers(crm.ctx(), {"limit": 200}).limit == 200


# --- filters and search ----------------------------------------------------------------------
@pytest.fixture
def catalogue(crm: Kernel, helpers: Any) -> dict[str, Any]:
    rep = helpers.add_user(crm, "rep", "sales_rep")
    other = helpers.add_user(crm, "other", "sales_rep")
    r, o = crm.ctx(rep), crm.ctx(other)
    made = _catalogue(r, o)
    return {"ctx": crm.ctx(), "rep": r, "other": o, **{k: v.id for k, v in made.items()},
            "codes": {k: v.code for k, v in made.items()}, "kernel": crm, "rep_actor": rep}


def _catalogue(r: Any, o: Any) -> dict[str, Any]:
    return {
        "huaxing": create_customer(r, {
            "name": "深圳华星科技有限公司", "status": "won", "industry": "I", "region": "华南",
            "source": "trade_show",
            "contacts": [{"name": "张三", "phone": "+86 138-1234-5678", "email": "Sales@HuaXing.cn"}]}),
        "acme": create_customer(r, {
            "name": "Acme Trading Ltd", "status": "potential", "industry": "F", "region": "华东",
            "source": "website",
            "contacts": [{"name": "Li", "phone": "010-8888 6666", "email": "li@acme.com"}]}),
        "huawei": create_customer(o, {"name": "华为", "status": "won", "industry": "C",
                                      "region": "华南", "source": "referral"}),
        "star": create_customer(o, {"name": "星巴克", "status": "churned", "region": "华东",
                                    "source": "referral"}),
        "pct": create_customer(o, {"name": "100% Natural_Foods", "status": "potential"}),
    }


SEARCHES: list[tuple[dict[str, Any], set[str]]] = [
    ({"status": "won"}, {"huaxing", "huawei"}),
    ({"status": "churned"}, {"star"}),
    ({"industry": "I"}, {"huaxing"}),
    ({"region": "华东"}, {"acme", "star"}),
    ({"source": "referral"}, {"huawei", "star"}),
    ({"status": "won", "region": "华南", "industry": "C"}, {"huawei"}),
    ({"q": "华星"}, {"huaxing"}),  # 2 characters
    ({"q": "星"}, {"huaxing", "star"}),  # 1 character
    ({"q": "华星科技"}, {"huaxing"}),  # 3+ characters
    ({"q": "有限公司"}, {"huaxing"}),
    ({"q": "acme"}, {"acme"}),
    ({"q": "TRADING ltd"}, {"acme"}),
    ({"q": "ＡＣＭＥ"}, {"acme"}),  # full-width input
    ({"q": "ra"}, {"acme", "pct"}),
    ({"q": "0%"}, {"pct"}),  # LIKE wildcards are literal
    ({"q": "%"}, {"pct"}),
    ({"q": "a_u"}, set()),  # would match "atu" in Natural if _ were a wildcard
    ({"q": "_"}, {"pct"}),
    ({"q": "Sales@huaxing.CN"}, {"huaxing"}),
    ({"q": "li@acme.com"}, {"acme"}),
    ({"q": "nobody@acme.com"}, set()),
    ({"q": "13812345678"}, {"huaxing"}),
    ({"q": "138 1234 5678"}, {"huaxing"}),
    ({"q": "+86 138-1234-5678"}, {"huaxing"}),
    ({"q": "0086 13812345678"}, {"huaxing"}),
    ({"q": "(138)1234-5678"}, {"huaxing"}),
    ({"q": "１３８１２３４５６７８"}, {"huaxing"}),
    ({"q": "010-88886666"}, {"acme"}),
    ({"q": "(010) 8888 6666"}, {"acme"}),
    ({"q": "+86 10 8888 6666"}, {"acme"}),
    ({"q": "13812345679"}, set()),
    ({"q": "  "}, {"huaxing", "acme", "huawei", "star", "pct"}),
]


def test_filters_and_search(catalogue: dict[str, Any]) -> None:
    names = {catalogue[k]: k for k in catalogue["codes"]}
    wrong = []
    for query, expected in SEARCHES:
        got = {names[i] for i in q_ids(catalogue["ctx"], **query)}
        counted = count_customers(catalogue["ctx"], query)
        if got != expected or counted != (len(expected), True):
            wrong.append(f"{query}: listed {sorted(got)}, counted {counted}, want {sorted(expected)}")
    assert wrong == []


def test_search_by_code(catalogue: dict[str, Any]) -> None:
    for key, code in catalogue["codes"].items():
        assert q_ids(catalogue["ctx"], q=code) == {catalogue[key]}
        assert q_ids(catalogue["ctx"], q=code.lower()) == {catalogue[key]}
    assert q_ids(catalogue["ctx"], q="C19990101001") == set()


def test_owner_filter(catalogue: dict[str, Any]) -> None:
    mine = {catalogue["huaxing"], catalogue["acme"]}
    assert q_ids(catalogue["rep"], owner="me") == mine
    assert q_ids(catalogue["ctx"], owner=str(catalogue["rep_actor"].id)) == mine
    assert q_ids(catalogue["other"], owner="me") == {catalogue[k] for k in ("huawei", "star", "pct")}


def test_created_range_is_read_in_the_actors_time_zone(catalogue: dict[str, Any]) -> None:
    k: Kernel = catalogue["kernel"]
    with k.new_session(write=True) as s, s.begin():  # 23:30 and 00:30 in Shanghai
        s.execute(update(Customer).where(Customer.id == catalogue["huaxing"])
                  .values(created_at=datetime(2024, 5, 1, 15, 30, tzinfo=UTC)))
        s.execute(update(Customer).where(Customer.id == catalogue["acme"])
                  .values(created_at=datetime(2024, 5, 1, 16, 30, tzinfo=UTC)))
    ctx = catalogue["ctx"]
    may1, may2 = date(2024, 5, 1), date(2024, 5, 2)
    assert q_ids(ctx, created_from=may1, created_to=may1) == {catalogue["huaxing"]}
    assert q_ids(ctx, created_from=may2, created_to=may2) == {catalogue["acme"]}
    assert q_ids(ctx, created_from="2024-04-30", created_to="2024-05-02") == {
        catalogue["huaxing"], catalogue["acme"]}
    assert q_ids(ctx, created_to="2024-04-30") == set()
    recent = q_ids(ctx, created_from=date.today() - timedelta(days=2))
    assert recent == {catalogue[k] for k in ("huawei", "star", "pct")}


def test_count_is_capped(crm: Kernel) -> None:
    for i in range(7):
        create_customer(crm.ctx(), {"name": f"Count {i}"})
    assert count_customers(crm.ctx()) == (7, True)
    assert count_customers(crm.ctx(), cap=5) == (5, False)
    assert count_customers(crm.ctx(), cap=7) == (7, True)
    assert count_customers(crm.ctx(), {"q": "Count 3"}, cap=5) == (1, True)


# --- delete cascades -----------------------------------------------------------------------
def test_delete_cascades_contacts_and_followups(crm: Kernel, helpers: Any) -> None:
    ctx = crm.ctx()
    keep = create_customer(ctx, {"name": "Keep", "contacts": [{"name": "K"}]})
    gone = create_customer(ctx, {"name": "Gone", "contacts": [{"name": "A"}, {"name": "B"}]})
    for cid in (keep.id, gone.id):
        followups_svc.create_followup(ctx, {"customer_id": cid, "content": "call"})
    delete_customer(ctx, gone.id)
    assert helpers.count(crm, Contact, Contact.customer_id == gone.id) == 0
    assert helpers.count(crm, FollowUp, FollowUp.customer_id == gone.id) == 0
    assert helpers.count(crm, Contact) == 1 and helpers.count(crm, FollowUp) == 1
    assert [c.name for c in contacts_svc.list_contacts(ctx, keep.id)] == ["K"]


# --- assigning owners ------------------------------------------------------------------------
@pytest.fixture
def teams(crm: Kernel, helpers: Any) -> dict[str, Any]:
    sys = crm.ctx()
    create_team(sys, "T2")
    u = {
        "manager": helpers.add_user(crm, "manager", "sales_manager"),
        "rep": helpers.add_user(crm, "rep", "sales_rep"),
        "peer": helpers.add_user(crm, "peer", "sales_rep"),
        "far": helpers.add_user(crm, "far", "sales_rep", team="T2"),
        "gone": helpers.add_user(crm, "gone", "sales_rep"),
    }
    create_team(sys, "T1", manager="manager")
    for login in ("manager", "rep", "peer", "gone"):
        set_membership(sys, "T1", login, True)
    from crm_core.services.users import set_active

    set_active(sys, "gone", False)
    actors = {n: actor_for(sys, n) for n in u}
    cust = {n: create_customer(crm.ctx(actors[n]), {"name": f"{n}'s"}).id
            for n in ("rep", "peer", "far")}
    return {"kernel": crm, "actors": actors, "cust": cust}


def test_a_rep_cannot_assign(teams: dict[str, Any]) -> None:
    k, a, c = teams["kernel"], teams["actors"], teams["cust"]
    with pytest.raises(PermissionDenied):
        assign_owner(k.ctx(a["rep"]), [c["rep"]], a["peer"].id)
    with pytest.raises(PermissionDenied):
        assign_owner(k.ctx(a["rep"]), [c["rep"]], a["rep"].id)
    assert get_customer(k.ctx(), c["rep"]).owner_id == a["rep"].id


def test_a_manager_assigns_only_within_the_team(teams: dict[str, Any], helpers: Any) -> None:
    k, a, c = teams["kernel"], teams["actors"], teams["cust"]
    mgr = k.ctx(a["manager"], "web")
    before = helpers.snapshot(k)
    with pytest.raises(PermissionDenied):  # to someone outside the team
        assign_owner(mgr, [c["rep"]], a["far"].id)
    with pytest.raises(NotFound):  # a customer outside the team
        assign_owner(mgr, [c["far"]], a["peer"].id)
    with pytest.raises(NotFound):  # all or nothing
        assign_owner(mgr, [c["rep"], c["far"]], a["peer"].id)
    with pytest.raises(ValidationError) as exc:  # a disabled user
        assign_owner(mgr, [c["rep"]], a["gone"].id)
    assert "owner_id" in exc.value.errors
    with pytest.raises(ValidationError):
        assign_owner(mgr, [], a["peer"].id)
    assert helpers.snapshot(k) == before

    assert assign_owner(mgr, [c["rep"], c["peer"]], a["peer"].id) == 2
    assert get_customer(k.ctx(), c["rep"]).owner_id == a["peer"].id
    [entry] = helpers.audit_entries(k, AuditEntry.action == "customer.assign")
    assert entry.changes == {"owner_id": [a["rep"].id, a["peer"].id]}
    assert entry.actor_login == "manager"
    assert assign_owner(mgr, [c["rep"]], a["manager"].id) == 1  # to themselves
    # the rep no longer sees the customer they lost
    with pytest.raises(NotFound):
        get_customer(k.ctx(a["rep"]), c["rep"])


def test_an_admin_assigns_anywhere(teams: dict[str, Any], helpers: Any) -> None:
    k, a, c = teams["kernel"], teams["actors"], teams["cust"]
    admin = helpers.add_user(k, "boss", "admin")
    assert assign_owner(k.ctx(admin), [c["rep"], c["far"]], a["far"].id) == 2
    assert {get_customer(k.ctx(), i).owner_id for i in (c["rep"], c["far"])} == {a["far"].id}


def test_a_manager_who_is_not_a_member_still_sees_the_team(teams: dict[str, Any], helpers: Any) -> None:
    k, c = teams["kernel"], teams["cust"]
    set_membership(k.ctx(), "T1", "manager", False)
    mgr = actor_for(k.ctx(), "manager")
    assert q_ids(k.ctx(mgr)) == {c["rep"], c["peer"]}


# --- roles whose scopes differ per action ----------------------------------------------------
def test_each_action_uses_its_own_scope(teams: dict[str, Any], helpers: Any) -> None:
    """A custom role reads everything but exports, and reads contacts and follow-ups, only its own:
    every path must apply the scope of its own action, not the read scope."""
    k, c = teams["kernel"], teams["cust"]
    sys = k.ctx()
    create_role(sys, "auditor", "审计", {"customers.read": "all", "customers.export": "own",
                                        "contacts.read": "own", "followups.read": "own"})
    aud = helpers.add_user(k, "aud", team="T1")
    set_user_roles(sys, "aud", ["auditor"])
    aud = actor_for(sys, "aud")
    own = create_customer(sys, {"name": "aud's", "contacts": [{"name": "X"}]})
    assign_owner(sys, [own.id], aud.id)
    for cid in (own.id, c["far"]):
        contacts_svc.create_contact(sys, {"customer_id": cid, "name": "Y"})
        followups_svc.create_followup(sys, {"customer_id": cid, "content": "call"})
    ctx = k.ctx(aud)
    assert q_ids(ctx) == {*c.values(), own.id}
    assert {x.id for x in export_customers(ctx)} == {own.id}
    assert len(contacts_svc.list_contacts(ctx, own.id)) == 2
    assert contacts_svc.list_contacts(ctx, c["far"]) == []
    assert len(followups_svc.timeline(ctx, own.id).items) == 1
    assert followups_svc.timeline(ctx, c["far"]).items == []
    assert {f.customer_id for f in followups_svc.timeline(ctx).items} == {own.id}
    with pytest.raises(PermissionDenied):
        create_customer(ctx, {"name": "not allowed"})
