"""Declared API operations: one declaration is both the guarded route and its OpenAPI operation.

An :class:`Op` names the permission, the pydantic models that validate the path, the query
string and the JSON body, the model of the answer and the conditional-request rules. The route
that :func:`api_route` builds validates with exactly those models before the handler runs, and
:mod:`crm_core.web.api.openapi` documents exactly those models, so the document cannot drift
from what the server accepts.

Input rules shared by every endpoint (and offered to plugins through :func:`read_query` and
:func:`read_body`):

* a query parameter that the operation does not declare is a 400 problem naming it, and so is a
  parameter given twice or an unknown ``sort``; a bad value of a declared one is a 422;
* the body is a JSON object validated by the operation's model (unknown fields are refused:
  nothing like ``owner_id``, ``code`` or ``version`` can be mass-assigned);
* text anywhere in the input must be valid Unicode without NUL characters (PostgreSQL refuses
  to store them);
* updates need ``If-Match: W/"<version>"`` (428 without it, 412 when stale).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crm_core.context import Ctx
from crm_core.errors import Conflict, CRMError, NotFound, PreconditionFailed, ValidationError
from crm_core.services.base import jsonable, parse
from crm_core.web.auth import ctx_for
from crm_core.web.routing import UNSAFE_METHODS, CRMRoute, route

M = TypeVar("M", bound=BaseModel)
API = "/api/v1"
RANGE_TYPES = ("number", "decimal", "date")
REAUTH_HELP = ("Needs the password again: with a bearer token send `X-Reauth-Password`; a browser "
               "session confirms at `/reauth` first.")
_ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')


class BadRequest(CRMError):
    """A request the API does not understand: an unknown query parameter (``parameter``
    names it), a repeated one, an unknown sort."""

    type = "bad-request"
    status = 400


class PreconditionRequired(CRMError):
    """An update without ``If-Match``: send the ``ETag`` of the version you edited."""

    type = "precondition-required"
    status = 428


class UnsupportedMediaType(CRMError):
    type = "unsupported-media-type"
    status = 415


class NoQuery(BaseModel):
    """No query parameters at all."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Call:
    """What a handler gets: the request, a service context and the validated inputs."""

    request: Request
    ctx: Ctx
    path: Any = None
    query: Any = None
    body: Any = None
    version: int | None = None  # from If-Match; None: no version check
    custom: dict[str, Any] = field(default_factory=dict)  # custom.<key> filters


@dataclass(frozen=True)
class Op:
    """One API operation. ``path`` is a Starlette path (``/api/v1/customers/{id:int}``)."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    permission: str
    handler: Callable[[Call], Any] | None  # None: routed elsewhere, documented here
    description: str = ""
    path_model: type[BaseModel] | None = None
    query_model: type[BaseModel] = NoQuery
    custom_filters: str | None = None  # entity whose custom fields filter (custom.<key>=…)
    body_model: type[BaseModel] | None = None
    body_required: bool = True
    response_model: type[BaseModel] | None = None
    status: int = 200
    reauth: bool = False
    if_match: str | None = None  # "required" / "optional"
    etag: bool = False  # the answer carries ETag: W/"<version>"
    location: str | None = None  # Location of a created resource, formatted with its fields
    media: Mapping[str, str] | None = None  # non-JSON answer: media type → description
    errors: tuple[int, ...] = ()  # problem statuses besides the ones every operation may give


class Readable(TypedDict):
    response_model: type[BaseModel]
    etag: bool


def readable(model: type[BaseModel]) -> Readable:
    """A resource read back: its model, and its version as the ETag."""
    return {"response_model": model, "etag": True}


# --- input ---------------------------------------------------------------------------------
def bad_text(value: str) -> str | None:
    """Why a string can't be stored, or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def text_errors(data: Any, loc: str = "") -> dict[str, list[str]]:
    """Every string (values and keys) in decoded JSON that can't be stored, by field path."""
    errors: dict[str, list[str]] = {}

    def walk(value: Any, where: str) -> None:
        if isinstance(value, str):
            why = bad_text(value)
            if why:
                errors.setdefault(where or "body", []).append(why)
        elif isinstance(value, dict):
            for k, item in value.items():
                why = bad_text(str(k))
                if why:
                    errors.setdefault(where or "body", []).append(f"field names {why}")
                    continue
                walk(item, f"{where}.{k}" if where else str(k))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}.{i}" if where else str(i))

    walk(data, loc)
    return errors


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_body(request: Request, model: type[M], *, required: bool = True) -> M:
    """The request's JSON body validated by ``model`` (422 problem with per-field errors)."""
    if getattr(request.state, "crm_form", None) is not None:
        raise UnsupportedMediaType("send the body as JSON (Content-Type: application/json)")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise UnsupportedMediaType("send the body as JSON (Content-Type: application/json)")
    raw = getattr(request.state, "crm_body", b"") or b""
    if not raw.strip():
        if required:
            raise ValidationError("a JSON body is required", {"body": ["required"]})
        data: Any = {}
    else:
        try:
            data = json.loads(raw, parse_constant=_no_constants)
        except (ValueError, RecursionError):
            raise ValidationError("the request body is not valid JSON",
                                  {"body": ["not valid JSON"]}) from None
    errors = text_errors(data)
    if errors:
        raise ValidationError("invalid input", errors)
    return parse(model, data)


def read_path(request: Request, model: type[M]) -> M:
    """Path parameters validated by ``model``; a value out of its range names no resource (404)."""
    try:
        return model.model_validate(dict(request.path_params))
    except PydanticError:
        raise NotFound(f"{request.url.path} does not exist") from None


def _allowed(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def read_query(request: Request, model: type[M], *,
               custom_fields: Mapping[str, str] | None = None) -> tuple[M, dict[str, Any]]:
    """The query string validated by ``model``: (the model, custom-field filters).

    :param custom_fields: key → type of the custom fields that may filter
        (``custom.<key>=…``, and ``custom.<key>.min`` / ``.max`` for numbers and dates).
    :raises BadRequest: an undeclared, repeated or malformed parameter, an unknown sort.
    :raises ValidationError: a declared parameter with a bad value.
    """
    allowed = _allowed(model)
    data: dict[str, str] = {}
    custom: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name in seen:
            raise BadRequest(f"query parameter {name!r} is given more than once", parameter=name)
        seen.add(name)
        if name in allowed:
            target = name
        elif custom_fields is not None and name.startswith("custom."):
            target = _custom_target(name, custom_fields)
        else:
            more = " and custom.<key>" if custom_fields is not None else ""
            hint = f"; allowed: {', '.join(allowed)}{more}" if allowed else "; this operation takes none"
            raise BadRequest(f"unknown query parameter {name!r}{hint}", parameter=name)
        why = bad_text(value)
        if why is None and target != name:
            if not value.strip():
                why = "give a value (leave the parameter out to not filter)"
            elif len(value) > _custom_limit(name, custom_fields):
                why = f"at most {_custom_limit(name, custom_fields)} characters"
        if why:
            errors[name] = [why]
        elif target == name:
            data[name] = value
        else:
            _add_custom(custom, target, value, name)
    if errors:
        raise ValidationError("invalid query", errors)
    try:
        return model.model_validate(data), custom
    except PydanticError as exc:
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"]) or "query"
            if loc == "sort":
                why = e["msg"].removeprefix("Value error, ")
                raise BadRequest(why, parameter="sort") from None
            errors.setdefault(loc, []).append(e["msg"].removeprefix("Value error, "))
        raise ValidationError("invalid query", errors) from None


def _custom_target(name: str, fields: Mapping[str, str]) -> str:
    key, _, op = name.removeprefix("custom.").partition(".")
    ftype = fields.get(key)
    if ftype is None or (op and (op not in ("min", "max") or ftype not in RANGE_TYPES)):
        raise BadRequest(f"unknown query parameter {name!r}: no such custom field filter "
                         f"(custom fields: {', '.join(sorted(fields)) or 'none'})", parameter=name)
    return f"{key}.{op}" if op else key


def _custom_limit(name: str, fields: Mapping[str, str] | None) -> int:
    key = name.removeprefix("custom.").partition(".")[0]
    return 40 if (fields or {}).get(key) in ("number", "decimal") else 2000


def _add_custom(custom: dict[str, Any], target: str, value: str, name: str) -> None:
    key, _, op = target.partition(".")
    current = custom.get(key)
    if op:
        if current is not None and not isinstance(current, dict):
            raise BadRequest(f"use custom.{key} or custom.{key}.min/.max, not both", parameter=name)
        custom.setdefault(key, {})[op] = value
    else:
        if current is not None:
            raise BadRequest(f"use custom.{key} or custom.{key}.min/.max, not both", parameter=name)
        custom[key] = value


def read_if_match(request: Request, mode: str) -> int | None:
    """The version named by ``If-Match`` (``W/"3"`` or ``"3"``); ``*`` or no header (when
    optional) means no check. A tag that is no version of ours matches nothing (412)."""
    raw = request.headers.get("if-match")
    if raw is None or not raw.strip():
        if mode == "required":
            raise PreconditionRequired("send If-Match with the ETag of the version you edited "
                                       '(If-Match: W/"<version>"); read the record first')
        return None
    raw = raw.strip()
    if raw == "*":
        return None
    tags = [t.strip() for t in raw.split(",") if t.strip()]
    if len(tags) != 1:
        raise BadRequest("If-Match must name one version", parameter="If-Match")
    found = _ETAG.match(tags[0])
    return int(found.group(1)) if found else 0  # versions start at 1: 0 never matches


def etag(version: int) -> str:
    return f'W/"{version}"'


# --- the route -------------------------------------------------------------------------------
def custom_field_types(ctx: Ctx, entity: str) -> dict[str, str]:
    """Active custom fields of ``entity``: key → type (cached by the kernel)."""
    from crm_core.services.custom_fields import definitions

    def load() -> dict[str, str]:
        with ctx.reader() as s:
            return {d.key: d.type for d in definitions(s, entity, kernel=ctx.kernel)}

    # under the definitions' own key prefix, so that a change clears both at once; a hit opens
    # no session (this runs on every list request)
    return ctx.kernel.cached(f"custom_fields:{entity}:types", load)


def run(op: Op, request: Request) -> Response:
    assert op.handler is not None
    ctx = ctx_for(request)
    call = Call(request, ctx)
    if op.path_model is not None:
        call.path = read_path(request, op.path_model)
    if op.if_match:
        call.version = read_if_match(request, op.if_match)
    fields = custom_field_types(ctx, op.custom_filters) if op.custom_filters else None
    call.query, call.custom = read_query(request, op.query_model, custom_fields=fields)
    if op.body_model is not None:
        call.body = read_body(request, op.body_model, required=op.body_required)
    try:
        result = op.handler(call)
    except PreconditionFailed:
        raise
    except Conflict as exc:  # a stale version named by If-Match: 412, not 409
        if call.version is not None and "current_version" in exc.extra:
            raise PreconditionFailed(exc.message, **exc.extra) from None
        raise
    if isinstance(result, Response):
        return result
    return respond(op, result)


def respond(op: Op, result: Any) -> Response:
    if op.status == 204:
        return Response(status_code=204)
    if not isinstance(result, BaseModel):
        data = jsonable(result)
        headers = {"ETag": etag(data["version"])} if op.etag else {}
        if op.location:
            headers["Location"] = op.location.format(**data)
        return JSONResponse(data, status_code=op.status, headers=headers)
    # pydantic writes the JSON itself: a third of the time of model_dump + json.dumps (a page
    # of 50 customers: ≈ 0.1 ms instead of ≈ 0.3 ms)
    headers = {"ETag": etag(result.model_dump(include={"version"})["version"])} if op.etag else {}
    if op.location:
        headers["Location"] = op.location.format(**result.model_dump(mode="json"))
    return Response(result.model_dump_json(), status_code=op.status, headers=headers,
                    media_type="application/json")


def api_route(op: Op) -> CRMRoute:
    """The guarded Starlette route of ``op`` (sync endpoint: it runs in the thread pool)."""

    def endpoint(request: Request) -> Response:
        return run(op, request)

    endpoint.__name__ = op.operation_id
    endpoint.__doc__ = op.summary
    return route(op.path, endpoint, permission=op.permission, methods=(op.method,),
                 name=f"api.{op.operation_id}", api=True,
                 reauth=op.reauth and op.method in UNSAFE_METHODS)
