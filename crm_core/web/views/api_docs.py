"""The JSON API's routes, and its reference page ``/api/v1/docs``: the OpenAPI document rendered
on the server (no script, no CDN), headings in the reader's language."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from crm_core.web import api
from crm_core.web.auth import kernel_of
from crm_core.web.i18n import N_
from crm_core.web.routing import AUTHENTICATED, route
from crm_core.web.templating import render

TAG_LABELS = {
    "customers": N_("Customers"), "contacts": N_("Contacts"), "followups": N_("Follow-ups"),
    "users": N_("Users"), "teams": N_("Teams"), "roles": N_("Roles and permissions"),
    "custom-fields": N_("Custom fields"), "plugins": N_("Modules"), "audit": N_("Audit log"),
    "meta": N_("About this API"),
}
_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Row:
    name: str
    type: Markup
    required: bool
    description: Markup
    where: str = ""


@dataclass
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: Markup
    permission: str
    reauth: bool
    params: list[Row]
    body: Markup | None
    responses: list[Row]


@dataclass
class Section:
    tag: str
    label: str
    description: str
    operations: list[Operation] = field(default_factory=list)


@dataclass
class SchemaDoc:
    name: str
    description: Markup
    fields: list[Row]


def inline_code(text: str) -> Markup:
    """Text with `code` spans (the descriptions' only markup), escaped."""
    parts = re.split(r"`([^`]*)`", text or "")
    return Markup("").join(escape(p) if i % 2 == 0 else Markup("<code>{}</code>").format(p)
                           for i, p in enumerate(parts))


def type_label(schema: dict[str, Any]) -> Markup:
    """A short, linked description of a JSON schema: ``array of CustomerRead``, ``string (date)``."""
    if not schema:
        return Markup("any")
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return Markup('<a href="#schema-{}">{}</a>').format(name, name)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        return Markup(" | ").join(type_label(s) for s in branches)
    if "enum" in schema:
        return Markup(", ").join(Markup("<code>{}</code>").format(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return Markup("array of ") + type_label(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return Markup("object of ") + type_label(schema["additionalProperties"])
    if kind == "null":
        return Markup("null")
    out = escape(kind if isinstance(kind, str) else " | ".join(kind))
    details = [schema["format"]] if "format" in schema else []
    for key, text in (("minimum", "≥ {}"), ("maximum", "≤ {}"), ("minLength", "≥ {} chars"),
                      ("maxLength", "≤ {} chars"), ("pattern", "{}")):
        if key in schema:
            details.append(text.format(schema[key]))
    return out + (Markup(" ({})").format(", ".join(str(d) for d in details)) if details else Markup())


def _operation(path: str, method: str, op: dict[str, Any], responses: dict[str, Any]) -> Operation:
    params = [Row(p["name"], type_label(p.get("schema", {})), bool(p.get("required")),
                  inline_code(p.get("description", "")), p["in"]) for p in op.get("parameters", [])]
    body = None
    if "requestBody" in op:
        body = type_label(op["requestBody"]["content"]["application/json"]["schema"])
    answers = []
    for status, answer in op["responses"].items():
        if "$ref" in answer:
            answer = responses[answer["$ref"].rsplit("/", 1)[-1]]
        content = answer.get("content", {})
        kinds = Markup(", ").join(
            type_label(c.get("schema", {})) if media.endswith("json")
            else Markup("<code>{}</code>").format(media) for media, c in content.items())
        answers.append(Row(status, kinds, False, inline_code(answer.get("description", ""))))
    description = re.sub(r"\s*(Module: \S+\. )?Permission: [^\n]*$", "", op.get("description", ""))
    return Operation(op["operationId"], method.upper(), path, op.get("summary", ""),
                     inline_code(description), op.get("x-permission", ""),
                     bool(op.get("x-reauth")), params, body, answers)


def reference(doc: dict[str, Any]) -> tuple[list[Section], list[SchemaDoc]]:
    """The document regrouped for reading: operations by tag, then every schema."""
    responses = doc["components"]["responses"]
    sections = {t["name"]: Section(t["name"], TAG_LABELS.get(t["name"], t["name"]), t.get("description", ""))
                for t in doc.get("tags", [])}
    for path, item in doc["paths"].items():
        for method in _METHODS:
            if method in item:
                op = item[method]
                tag = (op.get("tags") or ["meta"])[0]
                section = sections.setdefault(tag, Section(tag, tag, ""))
                section.operations.append(_operation(path, method, op, responses))
    schemas = []
    for name, schema in sorted(doc["components"]["schemas"].items()):
        required = set(schema.get("required", []))
        rows = [Row(k, type_label(v), k in required, inline_code(v.get("description", "")))
                for k, v in schema.get("properties", {}).items()]
        schemas.append(SchemaDoc(name, inline_code(schema.get("description", "")), rows))
    return [s for s in sections.values() if s.operations], schemas


def docs_page(request: Request) -> Response:
    doc = api.openapi_document(kernel_of(request))
    sections, schemas = reference(doc)
    return render(request, "api/docs.html", doc=doc, sections=sections, schemas=schemas,
                  tag_labels=TAG_LABELS)


def routes() -> list[BaseRoute]:
    return [*api.routes(),
            route("/api/v1/docs", docs_page, permission=AUTHENTICATED, name="api_docs")]
