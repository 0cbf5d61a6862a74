"""Custom fields: who may define them, how each type validates, what is stored, how to filter."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.errors import PermissionDenied, ValidationError
from crm_core.kernel import Kernel
from crm_core.models import AuditEntry, CustomFieldDefinition
from crm_core.services.contacts import create_contact, get_contact
from crm_core.services.custom_fields import create_field, list_fields, update_field
from crm_core.services.customers import create_customer, get_customer, list_customers, update_customer

FIELDS: list[dict[str, Any]] = [
    {"key": "level", "label": "等级", "type": "choice", "options": ["gold", "silver", "bronze"]},
    {"key": "tags", "label": "标签", "type": "multi_choice", "options": ["a", "b", "c"]},
    {"key": "employees", "label": "员工数", "type": "number", "min_value": "1", "max_value": "100000"},
    {"key": "revenue", "label": "年收入", "type": "decimal", "min_value": "0"},
    {"key": "founded", "label": "成立日期", "type": "date", "min_value": "1900-01-01",
     "max_value": "2100-12-31"},
    {"key": "vip", "label": "VIP", "type": "boolean"},
    {"key": "credit_code", "label": "统一社会信用代码", "type": "text", "regex": r"[0-9A-Z]{18}"},
]


@pytest.fixture
def fields(crm: Kernel, helpers: Any) -> Kernel:
    ctx = crm.ctx(helpers.add_user(crm, "admin", "admin"))
    with ctx.uow():  # one commit for the setup
        for f in FIELDS:
            create_field(ctx, {"entity": "customer", **f})
        create_field(ctx, {"entity": "contact", "key": "hobby", "label": "爱好", "type": "text"})
    return crm


def test_only_admins_define_fields(crm: Kernel, helpers: Any) -> None:
    for role in ("sales_manager", "sales_rep", "service_agent", "marketing", "viewer"):
        actor = helpers.add_user(crm, f"u_{role}", role)
        with pytest.raises(PermissionDenied):
            create_field(crm.ctx(actor), {"entity": "customer", "key": "x", "label": "X",
                                          "type": "text"})
    assert helpers.count(crm, CustomFieldDefinition) == 0
    admin = helpers.add_user(crm, "admin", "admin")
    made = create_field(crm.ctx(admin, "web"), {"entity": "customer", "key": "x", "label": "X",
                                                "type": "text"})
    assert [f.key for f in list_fields(crm.ctx(), "customer")] == ["x"]
    [entry] = helpers.audit_entries(crm, AuditEntry.action == "custom_field.create")
    assert (entry.entity_id, entry.actor_login) == (made.id, "admin")
    rep = helpers.add_user(crm, "rep", "sales_rep")
    with pytest.raises(PermissionDenied):
        update_field(crm.ctx(rep), made.id, {"label": "Y"})


BAD_DEFINITIONS: list[tuple[dict[str, Any], str]] = [
    ({"key": "Bad Key", "type": "text"}, "key"),
    ({"key": "1st", "type": "text"}, "key"),
    ({"key": "x", "type": "colour"}, "type"),
    ({"key": "x", "type": "choice"}, "options"),
    ({"key": "x", "type": "multi_choice", "options": []}, "options"),
    ({"key": "x", "type": "text", "regex": "[unclosed"}, "regex"),
    ({"key": "x", "type": "number", "min_value": "many"}, "min_value"),
    ({"key": "x", "type": "date", "max_value": "someday"}, "max_value"),
    ({"key": "x", "type": "text", "entity": "followup"}, "entity"),
    ({"key": "x", "type": "text", "entity": "nothing"}, "entity"),
    ({"key": "level", "type": "text"}, "key"),  # already defined
    ({"key": "x", "type": "text", "id": 9}, "id"),
    ({"key": "x", "type": "text", "regex": "[a-z]" * 100}, "regex"),  # longer than the column
    ({"key": "x", "type": "text", "help_text": "长" * 301}, "help_text"),
]


def test_bad_definition_updates_are_refused_and_change_nothing(fields: Kernel) -> None:
    ctx = fields.ctx()
    code = next(f for f in list_fields(ctx, "customer") if f.key == "credit_code")
    for data, field in [({"regex": "[unclosed"}, "regex"), ({"regex": "x" * 301}, "regex"),
                        ({"label": None}, "label"), ({"label": ""}, "label"),
                        ({"options": None}, "options"), ({"active": None}, "active"),
                        ({"key": "other"}, "key")]:
        with pytest.raises(ValidationError) as exc:
            update_field(ctx, code.id, data)
        assert field in exc.value.errors, (data, exc.value.errors)
    level = next(f for f in list_fields(ctx, "customer") if f.key == "level")
    with pytest.raises(ValidationError) as exc:
        update_field(ctx, level.id, {"options": []})
    assert "options" in exc.value.errors
    # nothing changed, and values still validate against the old definitions
    c = create_customer(ctx, {"name": "Acme", "custom": {"credit_code": "91440300MA5D12345X",
                                                        "level": "gold"}})
    assert c.custom == {"credit_code": "91440300MA5D12345X", "level": "gold"}
    updated = update_field(ctx, code.id, {"regex": r"\d{18}", "label": "信用代码"}, version=code.version)
    assert (updated.regex, updated.version) == (r"\d{18}", code.version + 1)
    with pytest.raises(ValidationError):
        create_customer(ctx, {"name": "Acme", "custom": {"credit_code": "91440300MA5D12345X"}})


def test_bad_definitions_are_refused(fields: Kernel, helpers: Any) -> None:
    before = helpers.count(fields, CustomFieldDefinition)
    wrong = []
    for definition, field in BAD_DEFINITIONS:
        try:
            create_field(fields.ctx(), {"entity": "customer", "label": "X", **definition})
            wrong.append(f"{definition}: accepted")
        except ValidationError as exc:
            if field not in exc.errors:
                wrong.append(f"{definition}: errors {exc.errors}, want {field}")
    assert wrong == []
    assert helpers.count(fields, CustomFieldDefinition) == before


VALUES: list[tuple[str, Any, Any]] = [  # key, input, stored (or ValidationError)
    ("level", "gold", "gold"), ("level", " silver ", "silver"), ("level", "platinum", ValidationError),
    ("tags", ["b", "a", "b"], ["a", "b"]), ("tags", "c, a", ["a", "c"]), ("tags", ["d"], ValidationError),
    ("employees", "42", 42), ("employees", 1, 1), ("employees", 100000, 100000),
    ("employees", 0, ValidationError), ("employees", "100001", ValidationError),
    ("employees", "4.5", ValidationError), ("employees", True, ValidationError),
    ("employees", "many", ValidationError),
    ("revenue", "1,234.50", "1234.50"), ("revenue", 0, "0"), ("revenue", "-1", ValidationError),
    ("revenue", "NaN", ValidationError), ("revenue", "lots", ValidationError),
    ("founded", "2001-09-10", "2001-09-10"), ("founded", "2001/09/10", "2001-09-10"),
    ("founded", "1899-12-31", ValidationError), ("founded", "10 Sept 2001", ValidationError),
    ("vip", True, True), ("vip", "是", True), ("vip", "no", False), ("vip", "maybe", ValidationError),
    ("credit_code", "91440300MA5D12345X", "91440300MA5D12345X"),
    ("credit_code", " 91440300MA5D12345X ", "91440300MA5D12345X"),
    ("credit_code", "91440300ma5d12345x", ValidationError),
    ("credit_code", "91440300MA5D12345X1", ValidationError),
]


def test_each_type_validates_and_stores_normalised_values(fields: Kernel, helpers: Any) -> None:
    wrong = []
    for key, raw, stored in VALUES:
        before = helpers.snapshot(fields)
        try:
            c = create_customer(fields.ctx(), {"name": "Acme", "custom": {key: raw}})
        except ValidationError as exc:
            if stored is not ValidationError:
                wrong.append(f"{key}={raw!r}: refused {exc.errors}")
            elif list(exc.errors) != [f"custom.{key}"]:
                wrong.append(f"{key}={raw!r}: errors {exc.errors}")
            if helpers.snapshot(fields) != before:
                wrong.append(f"{key}={raw!r}: refused but wrote something")
            continue
        if stored is ValidationError:
            wrong.append(f"{key}={raw!r}: accepted as {c.custom}")
        elif (c.custom, get_customer(fields.ctx(), c.id).custom) != ({key: stored}, {key: stored}):
            wrong.append(f"{key}={raw!r}: stored {c.custom}, want {stored!r}")
    assert wrong == []


def test_unknown_and_inactive_keys_are_refused(fields: Kernel, helpers: Any) -> None:
    ctx = fields.ctx()
    c = create_customer(ctx, {"name": "Acme", "custom": {"vip": True}})
    before = helpers.snapshot(fields)
    with pytest.raises(ValidationError) as exc:
        create_customer(ctx, {"name": "Acme", "custom": {"colour": "red"}})
    assert exc.value.errors == {"custom.colour": ["unknown custom field"]}
    with pytest.raises(ValidationError) as exc:
        update_customer(ctx, c.id, {"custom": {"colour": "red"}})
    assert "custom.colour" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        list_customers(ctx, {"custom": {"colour": "red"}})
    assert "custom.colour" in exc.value.errors
    with pytest.raises(ValidationError) as exc:  # a contact field is not a customer field
        create_customer(ctx, {"name": "Acme", "custom": {"hobby": "golf"}})
    level = next(f for f in list_fields(ctx, "customer") if f.key == "level")
    update_field(ctx, level.id, {"active": False}, version=level.version)
    with pytest.raises(ValidationError) as exc:
        create_customer(ctx, {"name": "Acme", "custom": {"level": "gold"}})
    assert "custom.level" in exc.value.errors
    assert helpers.snapshot(fields)["crm_customer"] == before["crm_customer"]


def test_required_fields(fields: Kernel, helpers: Any) -> None:
    ctx = fields.ctx()
    create_field(ctx, {"entity": "customer", "key": "region_code", "label": "区域编码",
                       "type": "text", "required": True})
    before = helpers.snapshot(fields)
    for custom in ({}, {"region_code": ""}, {"region_code": None}):
        with pytest.raises(ValidationError) as exc:
            create_customer(ctx, {"name": "Acme", "custom": custom})
        assert exc.value.errors == {"custom.region_code": ["区域编码 is required"]}
    assert helpers.snapshot(fields) == before
    c = create_customer(ctx, {"name": "Acme", "custom": {"region_code": "GD"}})
    with pytest.raises(ValidationError):
        update_customer(ctx, c.id, {"custom": {"region_code": ""}})
    # other custom values can change without repeating the required one
    updated = update_customer(ctx, c.id, {"custom": {"vip": "yes"}})
    assert updated.custom == {"region_code": "GD", "vip": True}
    assert update_customer(ctx, c.id, {"custom": {"vip": None}}).custom == {"region_code": "GD"}


def test_contact_custom_fields(fields: Kernel) -> None:
    c = create_customer(fields.ctx(), {"name": "Acme"})
    k = create_contact(fields.ctx(), {"customer_id": c.id, "name": "张三", "custom": {"hobby": " golf "}})
    assert get_contact(fields.ctx(), k.id).custom == {"hobby": "golf"}
    with pytest.raises(ValidationError) as exc:
        create_contact(fields.ctx(), {"customer_id": c.id, "name": "李四", "custom": {"level": "gold"}})
    assert "custom.level" in exc.value.errors


FILTERS: list[tuple[dict[str, Any], set[str]]] = [
    ({"level": "gold"}, {"a"}),
    ({"level": " silver "}, {"b"}),
    ({"tags": "a"}, {"a", "b"}),
    ({"tags": "c"}, {"b"}),
    ({"employees": 50}, {"a"}),
    ({"employees": "500"}, {"b"}),
    ({"employees": {"min": 100}}, {"b"}),
    ({"employees": {"min": 50, "max": 500}}, {"a", "b"}),
    ({"employees": {"max": 49}}, set()),
    ({"revenue": "1,000.50"}, {"a"}),
    ({"revenue": {"min": "2000"}}, {"b"}),
    ({"revenue": {"min": "0", "max": "999999"}}, {"a", "b"}),
    ({"founded": "2001/09/10"}, {"a"}),
    ({"founded": {"min": "2005-01-01"}}, {"b"}),
    ({"founded": {"max": "2005-01-01"}}, {"a"}),
    ({"vip": True}, {"a"}),
    ({"vip": "否"}, {"b"}),
    ({"credit_code": "91440300MA5D12345X"}, {"b"}),
    ({"level": "gold", "vip": True}, {"a"}),
    ({"level": "gold", "vip": False}, set()),
]


def test_custom_values_are_filterable(fields: Kernel) -> None:
    ctx = fields.ctx()
    made = {
        "a": create_customer(ctx, {"name": "A", "custom": {
            "level": "gold", "tags": ["a"], "employees": "50", "revenue": "1000.5",
            "founded": "2001-09-10", "vip": "yes"}}).id,
        "b": create_customer(ctx, {"name": "B", "custom": {
            "level": "silver", "tags": "a,c", "employees": 500, "revenue": "25000",
            "founded": "2010-01-01", "vip": False, "credit_code": "91440300MA5D12345X"}}).id,
        "c": create_customer(ctx, {"name": "C"}).id,
    }
    names = {v: k for k, v in made.items()}
    wrong = []
    for custom, expected in FILTERS:
        try:
            got = {names[c.id] for c in list_customers(ctx, {"custom": custom}).items}
        except Exception as exc:
            wrong.append(f"{custom}: {exc!r}")
            continue
        if got != expected:
            wrong.append(f"{custom}: got {sorted(got)}, want {sorted(expected)}")
    assert wrong == []
    for bad in ({"level": "platinum"}, {"employees": "many"}, {"employees": {"above": 3}},
                {"tags": "z"}):
        with pytest.raises(ValidationError):
            list_customers(ctx, {"custom": bad})


def test_cached_definitions_follow_changes_made_in_this_process(make_kernel: Any, helpers: Any) -> None:
    from crm_core.services.roles import seed_builtin_grants

    k = make_kernel(plugin_refresh_seconds=3600)  # the cache would otherwise hide changes for an hour
    seed_builtin_grants(k.ctx())
    admin = k.ctx(helpers.add_user(k, "admin", "admin"))
    create_customer(admin, {"name": "缓存测试有限公司"})  # warms the cache: no fields yet
    field = create_field(admin, {"entity": "customer", "key": "tier", "label": "级别",
                                 "type": "choice", "options": ["A", "B"], "required": True})
    with pytest.raises(ValidationError) as err:
        create_customer(admin, {"name": "缓存测试二有限公司"})
    assert "custom.tier" in err.value.errors
    update_field(admin, field.id, {"required": False}, version=field.version)
    assert create_customer(admin, {"name": "缓存测试三有限公司"}).custom == {}
