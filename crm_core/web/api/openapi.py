"""The OpenAPI 3.1 document of ``/api/v1``, generated per request from the declared operations,
the enabled plugins' API routes and the active custom fields.

Schemas come from the very pydantic models the endpoints validate with (``model_json_schema``
with references into ``components/schemas``): request bodies in validation mode, answers in
serialization mode; query and path parameters are the fields of the operations' query and path
models. A disabled plugin's routes answer 404, and so they are not in the document either.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from crm_core import __version__
from crm_core.declarations import RouteDecl
from crm_core.web.api.models import Problem
from crm_core.web.api.operations import RANGE_TYPES, Op
from crm_core.web.i18n import N_
from crm_core.web.routing import PUBLIC, UNSAFE_METHODS, plugin_path

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

log = logging.getLogger("crm.web")
REF = "#/components/schemas/{model}"
PROBLEM_JSON = "application/problem+json"

TAGS = {  # tag → description (the reference page translates both)
    "customers": N_("Customers, with their contacts and follow-up timeline"),
    "contacts": N_("Contact people of customers"),
    "followups": N_("Follow-up records"),
    "users": N_("User accounts (administrators)"),
    "teams": N_("Teams (administrators)"),
    "roles": N_("Roles and their grants (administrators)"),
    "custom-fields": N_("Fields administrators add to customers, contacts and plugin records"),
    "plugins": N_("Modules: list, switch on and off (administrators)"),
    "audit": N_("Who changed what"),
    "notifications": N_("Your in-app notifications: list, mark read"),
    "meta": N_("This document and who you are"),
}
# status → (component name, description)
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Not understood: an unknown, repeated or malformed query parameter "
                        "(`parameter` names it), an unknown sort, a bad If-Match"),
    401: ("Unauthenticated", "No valid session or token"),
    403: ("Forbidden", "Missing permission (`permission-denied`), a browser request without its "
                       "CSRF token (`csrf-failed`), or the password is needed again "
                       "(`reauth-required`, `action` names it)"),
    404: ("NotFound", "No such record, or not one you may read"),
    409: ("Conflict", "The change conflicts with the current state"),
    412: ("PreconditionFailed", "If-Match names another version (`current_version` is the current one)"),
    413: ("PayloadTooLarge", "The body exceeds 32 MiB"),
    415: ("UnsupportedMediaType", "The body is not JSON"),
    422: ("ValidationError", "Invalid input: `errors` lists the messages per field"),
    428: ("PreconditionRequired", "If-Match is missing: send the ETag of the version you edited"),
    429: ("TooManyAttempts", "Too many wrong passwords: wait `retry_after` seconds"),
}
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "An API token (`crm tokens create`); acts as its user with the "
                                  "user's current roles."},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "crm_session",
                      "description": "A browser session (POST /login). Unsafe requests also send the "
                                     "session's CSRF token in `X-CSRF-Token`."},
}
_CONVERTERS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0}, "float": {"type": "number", "minimum": 0},
    "uuid": {"type": "string", "format": "uuid"}, "path": {"type": "string"},
    "str": {"type": "string"}}
_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def openapi_path(path: str) -> str:
    """``/api/v1/customers/{id:int}`` → ``/api/v1/customers/{id}``."""
    return _PARAM.sub(r"{\1}", path)


def _clean(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the ``null`` branch of an optional field (absent is how a
    query parameter says null) and without pydantic's title."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    branches = schema.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        del schema["anyOf"]
        schema = {**rest[0], **schema} if len(rest) == 1 else {**schema, "anyOf": rest}
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    return schema


class _Builder:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.schemas: dict[str, Any] = {}
        self.refs: dict[tuple[Any, str], Any] = {}

    # -- components ------------------------------------------------------------------------
    def collect(self, models: Iterable[tuple[type[Any] | None, JsonSchemaMode]]) -> None:
        wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
        for model, mode in models:
            if model is None:
                continue
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                log.warning("OpenAPI: %r is not a pydantic model; documented as any JSON", model)
                continue
            if (model, mode) not in wanted:
                wanted.append((model, mode))
        refs, defs = models_json_schema(wanted, ref_template=REF)
        self.refs = {(model, str(mode)): schema for (model, mode), schema in refs.items()}
        self.schemas.update(defs.get("$defs", {}))

    def ref(self, model: type[Any] | None, mode: str) -> dict[str, Any]:
        return self.refs.get((model, mode), {}) if model is not None else {}

    def fields(self, model: type[BaseModel]) -> tuple[dict[str, Any], set[str]]:
        schema = model.model_json_schema(ref_template=REF)
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, sub)
        return schema.get("properties", {}), set(schema.get("required", []))

    # -- parameters ------------------------------------------------------------------------
    def params(self, model: type[BaseModel] | None, where: str) -> list[dict[str, Any]]:
        if model is None:
            return []
        props, required = self.fields(model)
        out = []
        for name, prop in props.items():
            schema = _clean(prop)
            param: dict[str, Any] = {"name": name, "in": where, "schema": schema,
                                     "required": where == "path" or name in required}
            if "description" in schema:
                param["description"] = schema.pop("description")
            if where == "path" and schema.get("type") == "integer":
                param["example"] = 1
            out.append(param)
        return out

    def custom_params(self, entity: str) -> list[dict[str, Any]]:
        from crm_core.services.custom_fields import definitions

        with self.kernel.new_session() as s:
            defs = definitions(s, entity, kernel=self.kernel)
        out: list[dict[str, Any]] = []
        for d in defs:
            schemas: dict[str, dict[str, Any]] = {
                "number": {"type": "integer", "minimum": -(10**15), "maximum": 10**15},
                "decimal": {"type": "string", "pattern": r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$"},
                "date": {"type": "string", "format": "date"},
                "boolean": {"type": "boolean"},
                "choice": {"type": "string", "enum": list(d.options)},
                "multi_choice": {"type": "string", "enum": list(d.options)},
            }
            schema = schemas.get(d.type, {"type": "string", "maxLength": 2000})
            label = d.label_en or d.label
            out.append({"name": f"custom.{d.key}", "in": "query", "required": False,
                        "schema": schema, "description": f"custom field {label} ({d.type})"})
            if d.type in RANGE_TYPES:
                for bound in ("min", "max"):
                    out.append({"name": f"custom.{d.key}.{bound}", "in": "query", "required": False,
                                "schema": schema, "description": f"{label}: {bound}imum"})
        return out

    # -- responses -------------------------------------------------------------------------
    @staticmethod
    def problems(statuses: Iterable[int]) -> dict[str, Any]:
        return {str(s): {"$ref": f"#/components/responses/{PROBLEMS[s][0]}"} for s in sorted(set(statuses))}

    def core(self, op: Op) -> dict[str, Any]:
        params = self.params(op.path_model, "path") + self.params(op.query_model, "query")
        if op.custom_filters:
            params += self.custom_params(op.custom_filters)
        if op.if_match:
            params.append({"name": "If-Match", "in": "header", "required": op.if_match == "required",
                           "schema": {"type": "string"}, "example": 'W/"1"',
                           "description": 'the ETag of the version you edited, e.g. W/"3"'})
        if op.reauth:
            params.append({"name": "X-Reauth-Password", "in": "header", "required": False,
                           "schema": {"type": "string", "format": "password"},
                           "description": "your password (bearer tokens): this action needs it again"})
        description = op.description
        if op.permission != PUBLIC:
            who = "any signed-in user" if op.permission == "authenticated" else f"`{op.permission}`"
            description = f"{description}\n\nPermission: {who}.".strip()
        out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                               "description": description, "tags": [op.tag],
                               "x-permission": op.permission, "x-reauth": op.reauth}
        if params:
            out["parameters"] = params
        if op.body_model is not None:
            out["requestBody"] = {"required": op.body_required, "content": {
                "application/json": {"schema": self.ref(op.body_model, "validation")}}}
        out["responses"] = {**self.success(op), **self.problems(self.statuses(op))}
        if op.permission == PUBLIC:
            out["security"] = []
        return out

    def success(self, op: Op) -> dict[str, Any]:
        if op.status == 204:
            return {"204": {"description": "Done"}}
        headers: dict[str, Any] = {}
        if op.etag:
            headers["ETag"] = {"description": 'W/"<version>": send it back in If-Match',
                               "required": True, "schema": {"type": "string"}}
        if op.location:
            headers["Location"] = {"description": "the new resource", "required": True,
                                   "schema": {"type": "string"}}
        if op.media:
            content = {media: {"schema": {"type": "string"}} for media in op.media}
            description = "; ".join(f"{m}: {d}" for m, d in op.media.items())
        else:
            schema = self.ref(op.response_model, "serialization") or {"type": "object"}
            content = {"application/json": {"schema": schema}}
            description = "Created" if op.status == 201 else "OK"
        answer: dict[str, Any] = {"description": description, "content": content}
        if headers:
            answer["headers"] = headers
        return {str(op.status): answer}

    @staticmethod
    def statuses(op: Op) -> set[int]:
        out = {400, *op.errors}
        if op.permission != PUBLIC:
            out |= {401, 403}
        takes_query = bool(op.query_model.model_fields) or op.custom_filters
        if op.path_model is not None or op.body_model is not None:
            out.add(404)
        if takes_query or op.body_model is not None or op.method in UNSAFE_METHODS:
            out.add(422)
        if op.body_model is not None:
            out |= {413, 415}
        if op.if_match:
            out.add(412)
        if op.if_match == "required":
            out.add(428)
        if op.reauth:
            out.add(429)
        return out

    # -- plugins ---------------------------------------------------------------------------
    def plugin(self, decl: RouteDecl, plugin: str, method: str, op_id: str) -> dict[str, Any]:
        params = []
        for name, conv in _PARAM.findall(decl.path):
            params.append({"name": name, "in": "path", "required": True,
                           "schema": dict(_CONVERTERS.get(conv or "str") or {"type": "string"})})
        if decl.query_model is not None:
            params += self.params(decl.query_model, "query")
        perm = decl.permission or "authenticated"
        who = "any signed-in user" if perm == "authenticated" else f"`{perm}`"
        out: dict[str, Any] = {
            "operationId": op_id, "summary": decl.summary or f"{method} {decl.path} ({plugin})",
            "description": f"{decl.description}\n\nModule: {plugin}. Permission: {who}.".strip(),
            "tags": list(decl.tags) or [plugin], "x-permission": perm, "x-plugin": plugin,
        }
        if params:
            out["parameters"] = params
        if decl.request_model is not None and method in UNSAFE_METHODS:
            out["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": self.ref(decl.request_model, "validation")}}}
        schema = self.ref(decl.response_model, "serialization") or {}
        ok = {"description": "OK", "content": {"application/json": {"schema": schema}}}
        statuses = {403, 404}
        if perm != PUBLIC:
            statuses.add(401)
        else:
            out["security"] = []
        if decl.query_model is not None:
            statuses.add(400)
        if decl.request_model is not None or decl.query_model is not None:
            statuses.add(422)
        out["responses"] = {str(decl.status_code): ok, **self.problems(statuses)}
        return out


def _plugin_routes(kernel: Kernel) -> list[tuple[RouteDecl, str]]:
    return [(d, p) for d, p in kernel.routes if d.api and kernel.host.is_enabled(p)]


def document(kernel: Kernel, operations: list[Op]) -> dict[str, Any]:
    """The OpenAPI 3.1 document: the core's ``operations`` and the enabled plugins' routes."""
    b = _Builder(kernel)
    plugin_routes = _plugin_routes(kernel)
    models: list[tuple[type[Any] | None, JsonSchemaMode]] = []
    for op in operations:
        models += [(op.body_model, "validation"), (op.response_model, "serialization")]
    for decl, _plugin in plugin_routes:
        models += [(decl.request_model, "validation"), (decl.response_model, "serialization")]
    b.collect(models)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(openapi_path(op.path), {})[op.method.lower()] = b.core(op)
    tags = dict(TAGS)
    used: set[str] = {op.operation_id for op in operations}
    for decl, plugin in plugin_routes:
        path = plugin_path(decl, plugin)
        for method in decl.methods:
            slug = re.sub(r"[^A-Za-z0-9]+", "_", decl.path).rstrip("_")
            name = decl.name or f"{method.lower()}{slug}"
            op_id = _unique(used, f"{plugin}.{name}")
            paths.setdefault(openapi_path(path), {})[method.lower()] = b.plugin(decl, plugin, method, op_id)
            for tag in decl.tags or (plugin,):
                tags.setdefault(tag, f"Module {plugin}")
    problem = {PROBLEM_JSON: {"schema": b.ref(Problem, "serialization")}}
    responses: dict[str, dict[str, Any]] = {name: {"description": text, "content": problem}
                                            for name, text in PROBLEMS.values()}
    responses["Unauthenticated"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    responses["TooManyAttempts"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mosaic CRM API", "version": __version__, "description": (
            "The JSON API of Mosaic CRM. Send an API token (`Authorization: Bearer …`) or use a "
            "browser session. Errors are `application/problem+json` documents whose `type` is "
            "stable. Lists are keyset-paginated: follow `next_cursor`. Updates need `If-Match`.")},
        "servers": [{"url": "/"}],
        "tags": [{"name": k, "description": v} for k, v in tags.items()],
        "paths": paths,
        "components": {"schemas": b.schemas, "responses": responses,
                       "securitySchemes": SECURITY_SCHEMES},
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    }


def _unique(used: set[str], op_id: str) -> str:
    candidate, n = op_id, 2
    while candidate in used:
        candidate, n = f"{op_id}_{n}", n + 1
    used.add(candidate)
    return candidate

