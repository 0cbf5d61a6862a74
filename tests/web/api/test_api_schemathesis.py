"""Schemathesis against ``/api/v1/openapi.json``, in-process over ASGI, for every operation (the
enabled test plugin's too), as an administrator (who also sends the re-authentication password)
and as a sales rep: no server error, and every answer as the document says (status, media type,
headers, body schema). Valid and invalid inputs both; the examples per operation are bounded
(``CRM_SCHEMATHESIS_EXAMPLES``, default 12) and the run is derandomised so the suite is
repeatable — raise the number and set ``CRM_SCHEMATHESIS_SEED`` to explore further.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from api_support import PASSWORD, add_user, apiplug, bearer
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest
from crm_core.services import auth as auth_svc
from crm_core.services import contacts as contacts_svc
from crm_core.services import customers as customers_svc
from crm_core.services import followups as followups_svc
from crm_core.services import roles as roles_svc
from crm_core.services import users as users_svc
from crm_core.services.custom_fields import create_field
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import create_team, set_membership
from crm_core.testing import private_database, settings_for
from crm_core.web import create_app

pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("CRM_SCHEMATHESIS_EXAMPLES") or 12)
SEED = os.environ.get("CRM_SCHEMATHESIS_SEED")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@dataclass
class Fuzz:
    kernel: Kernel
    app: Any
    headers: dict[str, dict[str, str]]
    grants: dict[str, dict[str, str | None]]


def _seed_data(kernel: Kernel, rep_id: int) -> None:
    sys = kernel.ctx()
    for key, ftype, extra in (("budget", "number", {"min_value": "0"}), ("rate", "decimal", {}),
                              ("signed_on", "date", {}), ("vip", "boolean", {}),
                              ("tier", "choice", {"options": ["A", "B"]}),
                              ("tags", "multi_choice", {"options": ["x", "y"]}),
                              ("note", "text", {})):
        create_field(sys, {"entity": "customer", "key": key, "label": key, "type": ftype, **extra})
    with sys.uow():
        for i in range(6):
            c = customers_svc.create_customer(sys, {
                "name": f"客户{i}", "custom": {"budget": i * 10, "tier": "A"},
                "contacts": [{"name": f"联系人{i}", "phone": f"1390000000{i}"}]})
            if i % 2:
                customers_svc.assign_owner(sys, [c.id], rep_id)
            followups_svc.create_followup(sys, {"customer_id": c.id, "content": f"拜访{i}"})
            contacts_svc.create_contact(sys, {"customer_id": c.id, "name": f"第二联系人{i}"})


def _without_lifespan(app: Any) -> Any:
    """The app for schemathesis, whose client would start the app's lifespan on a thread of
    its own and keep it for the whole process: here the test owns the kernel's lifecycle."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("the lifespan is run by the test")  # = "no lifespan support"
        await app(scope, receive, send)

    return asgi


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    plugin: Manifest = apiplug()
    with private_database(tmp_path_factory.mktemp("api-fuzz"), "crm_api_fuzz") as url:
        kernel = Kernel(settings_for(url, plugin_refresh_seconds=0.0, scheduler_enabled=False,
                                     instance_dir=str(tmp_path_factory.mktemp("instance"))),
                        plugins=[plugin], autoload=False, strict=True)
        try:
            enable_plugins(kernel, ["apiplug"])
            seed_builtin_grants(kernel.ctx())
            add_user(kernel, "admin", "admin")
            rep_id = add_user(kernel, "rep", "sales_rep")
            create_team(kernel.ctx(), "T1", manager="admin")
            set_membership(kernel.ctx(), "T1", "rep", True)
            _seed_data(kernel, rep_id)
            kernel.startup()
            app = _without_lifespan(create_app(kernel=kernel))
            yield Fuzz(kernel, app, {
                "admin": {**bearer(kernel, "admin"), "X-Reauth-Password": PASSWORD},
                "rep": bearer(kernel, "rep"),
            }, {r.name: roles_svc.role_grants(kernel.ctx(), r.name)
                for r in roles_svc.list_roles(kernel.ctx())})
        finally:
            kernel.shutdown()


def _run_operation(operation: Any, headers: dict[str, str]) -> list[str]:
    """Fuzz one operation; the failures found, each with the request that shows it."""
    failures: list[str] = []
    strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                  operation.as_strategy(GenerationMode.NEGATIVE),
                  *operation.schema.get_strategies_from_examples(operation)]

    @given(case=st.one_of(strategies))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=SEED is None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, FailureGroup) as exc:  # keep going: report every failure at the end
            found = getattr(exc, "exceptions", None) or [exc]
            text = "\n".join(f"  {type(f).__name__}: {f}" for f in found)
            if len(failures) < 3:
                failures.append(f"{operation.label}:\n{text}\n  {case.as_curl_command(headers=headers)}")

    if SEED is not None:
        check = seed(int(SEED))(check)
    check()
    return failures


def _restore(fuzz: Fuzz) -> None:
    """Undo what the administrator's run may have done to the world itself: modules switched
    off, the test users' roles, grants, state and passwords."""
    k, sys = fuzz.kernel, fuzz.kernel.ctx()
    enable_plugins(k, ["apiplug"])
    for role, grants in fuzz.grants.items():
        roles_svc.set_grants(sys, role, grants)
    for login, role in (("admin", "admin"), ("rep", "sales_rep")):
        roles_svc.set_user_roles(sys, login, [role])
        users_svc.set_active(sys, login, True)
        users_svc.set_password(sys, login, PASSWORD)
        auth_svc.clear_failures(k, login)


@pytest.mark.parametrize("role", ["admin", "rep"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(fuzz: Fuzz, role: str) -> None:
    _restore(fuzz)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz.app, headers=fuzz.headers[role])
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert "GET /api/v1/customers" in labels and "POST /api/v1/apiplug/notes" in labels
    assert len(operations) >= 45
    failures: list[str] = []
    for operation in operations:
        failures += _run_operation(operation, fuzz.headers[role])
    assert not failures, f"{len(failures)} failure(s):\n" + "\n\n".join(failures)
