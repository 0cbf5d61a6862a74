"""The OpenAPI document: valid 3.1, complete, generated from the validating models, with the
enabled plugins' endpoints only; and the reference page rendered from it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_support import ApiSite, add_user, apiplug, bearer
from openapi_spec_validator import OpenAPIV31SpecValidator

from crm_core.kernel import Kernel
from crm_core.schemas import CustomerQuery
from crm_core.services import plugins as plugins_svc
from crm_core.services.custom_fields import create_field
from crm_core.services.roles import seed_builtin_grants
from crm_core.web.api import core_operations
from crm_core.web.api.openapi import openapi_path
from crm_core.web.routing import PUBLIC

H = dict[str, str]
METHODS = ("get", "post", "put", "patch", "delete")


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


@pytest.fixture
def doc(client: Any, auth: Callable[[str], H]) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json", headers=auth("rep"))
    assert response.status_code == 200
    return response.json()


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(doc).validate()
    assert set(doc["components"]["securitySchemes"]) == {"bearerAuth", "sessionCookie"}
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["components"]["securitySchemes"]["sessionCookie"]["in"] == "cookie"


def test_every_operation_is_fully_described(doc: dict[str, Any]) -> None:
    ids = []
    for path, method, op in operations(doc):
        where = f"{method.upper()} {path}"
        ids.append(op["operationId"])
        assert op["summary"] and op["tags"], where
        codes = set(op["responses"])
        assert any(c.startswith("2") for c in codes), where
        if op.get("security") != []:
            assert {"401", "403"} <= codes, where
        if "{" in path:
            assert "404" in codes, where
        if "requestBody" in op:
            assert "422" in codes and op["requestBody"]["content"]["application/json"]["schema"], where
        for code, answer in op["responses"].items():
            if code.startswith("4"):
                name = answer["$ref"].rsplit("/", 1)[-1]
                problem = doc["components"]["responses"][name]["content"]["application/problem+json"]
                assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}, where
    assert len(ids) == len(set(ids))
    patch = doc["paths"]["/api/v1/customers/{id}"]["patch"]
    assert {"412", "428", "422"} <= set(patch["responses"])
    assert {
        k: v for p in patch["parameters"] if p["name"] == "If-Match" for k, v in p.items()
        if k in ("name", "in", "required")} == {"name": "If-Match", "in": "header", "required": True}
    delete = doc["paths"]["/api/v1/customers/{id}"]["delete"]
    assert delete["x-reauth"] and "429" in delete["responses"] and "204" in delete["responses"]
    created = doc["paths"]["/api/v1/customers"]["post"]["responses"]["201"]
    assert set(created["headers"]) == {"ETag", "Location"}
    export = doc["paths"]["/api/v1/customers/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"text/csv", "application/x-ndjson"}


def test_schemas_are_the_validating_models(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    create = schemas["CustomerCreate"]
    assert create["additionalProperties"] is False  # unknown fields are refused…
    assert not {"owner_id", "code", "version", "id"} & set(create["properties"])  # …these among them
    assert create["required"] == ["name"]
    assert schemas["ContactCreate"]["properties"]["customer_id"]["maximum"] == 2**31 - 1
    listing = doc["paths"]["/api/v1/customers"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert set(params) == (set(CustomerQuery.model_fields) - {"custom"})
    assert params["status"]["schema"]["enum"] == ["potential", "won", "churned"]
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
    assert "-name" in params["sort"]["schema"]["enum"]
    # every declared operation is in the document, with its models
    for op in core_operations():
        documented = doc["paths"][openapi_path(op.path)][op.method.lower()]
        assert documented["operationId"] == op.operation_id
        if op.body_model is not None:
            ref = documented["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[-1] in schemas


def test_custom_fields_become_filter_parameters(client: Any, auth: Callable[[str], H],
                                                web_kernel: Kernel) -> None:
    create_field(web_kernel.ctx(), {"entity": "customer", "key": "budget", "label": "预算", "type": "number"})
    create_field(web_kernel.ctx(), {"entity": "customer", "key": "tier", "label": "等级",
                                    "type": "choice", "options": ["A", "B"]})
    doc = client.get("/api/v1/openapi.json", headers=auth("admin")).json()
    for op_id in ("listCustomers", "countCustomers", "exportCustomers"):
        op = next(o for _p, _m, o in operations(doc) if o["operationId"] == op_id)
        names = {p["name"]: p["schema"] for p in op["parameters"]}
        assert {"custom.budget", "custom.budget.min", "custom.budget.max", "custom.tier"} <= set(names)
        assert "custom.tier.min" not in names and names["custom.tier"]["enum"] == ["A", "B"]


def test_every_api_route_is_documented_and_every_operation_routed(site: Any, doc: dict[str, Any]) -> None:
    routed = {(openapi_path(info.path), m.lower()) for info in site.app.state.route_inventory
              if info.path.startswith("/api/v1/") and info.path != "/api/v1/docs"
              for m in info.methods if m != "HEAD"}
    documented = {(path, method) for path, method, _op in operations(doc)}
    assert routed == documented
    for info in site.app.state.route_inventory:
        if info.path.startswith("/api/"):
            assert info.permission and info.permission != PUBLIC and info.api, info


def test_plugin_endpoints_are_documented_only_while_enabled(make_kernel: Callable[..., Kernel],
                                                            webplug: Any, tmp_path: Any) -> None:
    k = make_kernel(plugins=[webplug, apiplug()], enabled=["webplug", "apiplug"],
                    scheduler_enabled=False, instance_dir=str(tmp_path))
    seed_builtin_grants(k.ctx())
    add_user(k, "admin", "admin")
    headers = bearer(k, "admin")
    site = ApiSite(k)
    try:
        def fetch() -> dict[str, Any]:
            response = site.request("GET", "/api/v1/openapi.json", headers=headers)
            assert response.status_code == 200
            OpenAPIV31SpecValidator(response.json()).validate()
            return response.json()

        doc = fetch()
        notes = doc["paths"]["/api/v1/apiplug/notes"]
        assert notes["get"]["operationId"] == "apiplug.listNotes"
        assert [p["name"] for p in notes["get"]["parameters"]] == ["q"]
        body = notes["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/NoteIn"}
        assert notes["post"]["responses"]["201"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/NoteOut"}
        one = doc["paths"]["/api/v1/apiplug/notes/{id}"]["get"]
        assert one["parameters"][0]["schema"]["type"] == "integer" and one["tags"] == ["notes"]
        assert one["x-permission"] == "apiplug.use"
        assert "/api/v1/webplug/items" in doc["paths"]  # undocumented models: any JSON
        assert {"NoteIn", "NoteOut", "NoteList"} <= set(doc["components"]["schemas"])

        plugins_svc.disable(k.ctx(), ["apiplug"])
        doc = fetch()
        assert not any(p.startswith("/api/v1/apiplug/") for p in doc["paths"])
        assert not {"NoteIn", "NoteOut", "NoteList"} & set(doc["components"]["schemas"])
        assert "/api/v1/webplug/items" in doc["paths"]
        assert site.request("GET", "/api/v1/apiplug/notes", headers=headers).status_code == 404

        plugins_svc.enable(k.ctx(), ["apiplug"])
        assert "/api/v1/apiplug/notes" in fetch()["paths"]
        bad = site.request("GET", "/api/v1/apiplug/notes", params={"colour": "red"}, headers=headers)
        assert bad.status_code == 400 and bad.json()["parameter"] == "colour"
        invalid = site.request("POST", "/api/v1/apiplug/notes", json={"text": ""}, headers=headers)
        assert invalid.status_code == 422 and "text" in invalid.json()["errors"]
    finally:
        site.close()


@pytest.mark.parametrize(("login", "headings"), [
    ("admin", ["API 参考", "客户", "认证与错误", "参数", "响应", "数据结构"]),
    ("en_user", ["API reference", "Customers", "Authentication and errors", "Parameters", "Responses",
                 "Schemas"]),
])
def test_reference_page(client: Any, auth: Callable[[str], H], doc: dict[str, Any], login: str,
                        headings: list[str]) -> None:
    response = client.get("/api/v1/docs", headers=auth(login))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for heading in headings:
        assert heading in html, heading
    assert "<script" not in html and "http://" not in html.replace("http://crm.test", "")
    for _path, _method, op in operations(doc):
        assert f'id="op-{op["operationId"]}"' in html
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert re.search(r'<a href="#schema-CustomerRead">CustomerRead</a>', html)
