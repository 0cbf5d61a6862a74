"""The JSON API under ``/api/v1/leads`` — thin handlers over the services."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crm_core.declarations import RouteDecl
from crm_core.errors import Conflict, PreconditionFailed
from crm_core.services.base import jsonable
from crm_core.web import ctx_for
from crm_core.web.api import read_body, read_if_match, read_query
from crm_leads import services as svc
from crm_leads.schemas import (
    ConvertIn,
    ConvertResult,
    LeadCreate,
    LeadQuery,
    LeadRead,
    LeadUpdate,
    RuleIn,
    RuleRead,
)
from crm_leads.services import convert, csvload, reports, rules
from crm_leads.services.leads import to_read


class LeadPage(BaseModel):
    items: list[LeadRead]
    next_cursor: str | None
    limit: int


class NoQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner_id: int


class Match(BaseModel):
    customer_id: int
    name: str
    score: int
    reason: str


class MatchList(BaseModel):
    items: list[Match]


class RuleList(BaseModel):
    items: list[RuleRead]


class Assigned(BaseModel):
    assigned: int


class SourceRow(BaseModel):
    source: str | None
    leads: int
    converted: int
    conversion_rate: float = Field(description="converted / leads, 0–1")
    contacted: int
    avg_hours_to_first_contact: float | None


class SourceReport(BaseModel):
    items: list[SourceRow]


class Uploaded(BaseModel):
    created: int
    lead_ids: list[int]


def _lead(read: LeadRead, status: int = 200) -> JSONResponse:
    headers = {"ETag": f'W/"{read.version}"'}
    if status == 201:
        headers["Location"] = f"/api/v1/leads/{read.id}"
    return JSONResponse(read.model_dump(mode="json"), status_code=status, headers=headers)


def _json(model: BaseModel, status: int = 200) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), status_code=status)


def _id(request: Request) -> int:
    return int(request.path_params["id"])


def _stale_is_412(version: int | None, call: Any) -> Any:
    """A stale version named by If-Match is 412 (the kernel API's rule), not 409."""
    try:
        return call()
    except PreconditionFailed:
        raise
    except Conflict as exc:
        if version is not None and "current_version" in exc.extra:
            raise PreconditionFailed(exc.message, **exc.extra) from None
        raise


def leads(request: Request) -> Response:
    ctx = ctx_for(request)
    if request.method == "POST":
        read_query(request, NoQuery)
        return _lead(svc.create_lead(ctx, read_body(request, LeadCreate)), 201)
    q, _ = read_query(request, LeadQuery)
    page = svc.list_leads(ctx, q)
    return _json(LeadPage(items=page.items, next_cursor=page.next_cursor, limit=page.limit))


def lead(request: Request) -> Response:
    ctx = ctx_for(request)
    read_query(request, NoQuery)
    if request.method == "GET":
        return _lead(svc.get_lead(ctx, _id(request)))
    if request.method == "DELETE":
        version = read_if_match(request, "optional")
        _stale_is_412(version, lambda: svc.delete_lead(ctx, _id(request), version=version))
        return Response(status_code=204)
    version = read_if_match(request, "required")
    body = read_body(request, LeadUpdate)
    return _lead(_stale_is_412(version, lambda: svc.update_lead(ctx, _id(request), body, version=version)))


def contacted(request: Request) -> Response:
    ctx = ctx_for(request)
    version = read_if_match(request, "optional")
    return _lead(_stale_is_412(version, lambda: svc.mark_contacted(ctx, _id(request), version=version)))


def assign(request: Request) -> Response:
    ctx = ctx_for(request)
    body = read_body(request, AssignIn)
    version = read_if_match(request, "optional")
    row = _stale_is_412(version, lambda: svc.reassign(ctx, _id(request), body.owner_id, version=version))
    return _lead(to_read(ctx, row))


def rerun(request: Request) -> Response:
    ctx = ctx_for(request)
    row = svc.assign_lead(ctx, _id(request))
    return _lead(to_read(ctx, row))


def matches(request: Request) -> Response:
    found = convert.conversion_matches(ctx_for(request), _id(request))
    return _json(MatchList(items=[Match(**m.__dict__) for m in found]))


def convert_lead(request: Request) -> Response:
    result = convert.convert_lead(ctx_for(request), _id(request), read_body(request, ConvertIn))
    return JSONResponse(jsonable(result.model_dump(mode="json")))


def rule_list(request: Request) -> Response:
    ctx = ctx_for(request)
    if request.method == "POST":
        return _json(rules.create_rule(ctx, read_body(request, RuleIn)), 201)
    return _json(RuleList(items=rules.list_rules(ctx)))


def rule_one(request: Request) -> Response:
    ctx = ctx_for(request)
    if request.method == "DELETE":
        rules.delete_rule(ctx, _id(request))
        return Response(status_code=204)
    version = read_if_match(request, "optional")
    return _json(rules.update_rule(ctx, _id(request), read_body(request, RuleIn), version=version))


def assign_all(request: Request) -> Response:
    return _json(Assigned(assigned=svc.assign_many(ctx_for(request))))


def report(request: Request) -> Response:
    read_query(request, NoQuery)
    rows = reports.by_source(ctx_for(request))
    return _json(SourceReport(items=[SourceRow(**r.__dict__) for r in rows]))


def upload(request: Request) -> Response:
    raw: Any = getattr(request.state, "crm_body", b"") or b""
    result = csvload.upload_csv(ctx_for(request), raw)
    return _json(Uploaded(created=result.created, lead_ids=result.lead_ids), 201)


_T = ("leads",)


def routes() -> list[RouteDecl]:
    one = "/{id:int}"
    return [
        RouteDecl("", leads, permission="leads.read", api=True, name="listLeads", tags=_T,
                  summary="List leads", query_model=LeadQuery, response_model=LeadPage,
                  description="Newest first, keyset pages: follow `next_cursor`. Filters: status, "
                  "source, region, industry, owner (`me`, `none` or a user id), q (name/company/email)."),
        RouteDecl("", leads, methods=("POST",), permission="leads.create", api=True,
                  name="createLead", tags=_T, summary="Create a lead", request_model=LeadCreate,
                  response_model=LeadRead, status_code=201,
                  description="The assignment rules give it an owner (the reason is in "
                  "`assignment_reason`); when none matches, you own it."),
        RouteDecl(one, lead, permission="leads.read", api=True, name="getLead", tags=_T,
                  summary="Read a lead", response_model=LeadRead),
        RouteDecl(one, lead, methods=("PATCH",), permission="leads.update", api=True,
                  name="updateLead", tags=_T, summary="Change a lead", request_model=LeadUpdate,
                  response_model=LeadRead, description="Needs `If-Match` with the lead's ETag "
                  "(428 without, 412 when stale)."),
        RouteDecl(one, lead, methods=("DELETE",), permission="leads.delete", api=True,
                  name="deleteLead", tags=_T, summary="Delete a lead", status_code=204),
        RouteDecl(one + "/contacted", contacted, methods=("POST",), permission="leads.update",
                  api=True, name="markContacted", tags=_T, summary="Record the first contact",
                  response_model=LeadRead),
        RouteDecl(one + "/assign", assign, methods=("POST",), permission="leads.assign", api=True,
                  name="reassignLead", tags=_T, summary="Give a lead to another user (override)",
                  request_model=AssignIn, response_model=LeadRead),
        RouteDecl(one + "/reassign-by-rules", rerun, methods=("POST",), permission="leads.assign",
                  api=True, name="rerunRules", tags=_T, summary="Run the assignment rules again",
                  response_model=LeadRead),
        RouteDecl(one + "/matches", matches, permission="leads.convert", api=True,
                  name="conversionMatches", tags=_T, response_model=MatchList,
                  summary="Existing customers with the lead's phone or email"),
        RouteDecl(one + "/convert", convert_lead, methods=("POST",), permission="leads.convert",
                  api=True, name="convertLead", tags=_T, request_model=ConvertIn,
                  response_model=ConvertResult, summary="Convert a lead into a customer",
                  description="Creates the customer with the lead as primary contact, or links "
                  "`customer_id`; modules may add `options` (e.g. an opportunity). One transaction."),
        RouteDecl("/rules", rule_list, permission="leads.read", api=True, name="listRules",
                  tags=_T, summary="Assignment rules in order", response_model=RuleList),
        RouteDecl("/rules", rule_list, methods=("POST",), permission="leads.manage_rules",
                  api=True, name="createRule", tags=_T, summary="Add an assignment rule",
                  request_model=RuleIn, response_model=RuleRead, status_code=201),
        RouteDecl("/rules" + one, rule_one, methods=("PUT",), permission="leads.manage_rules",
                  api=True, name="updateRule", tags=_T, summary="Replace an assignment rule",
                  request_model=RuleIn, response_model=RuleRead),
        RouteDecl("/rules" + one, rule_one, methods=("DELETE",), permission="leads.manage_rules",
                  api=True, name="deleteRule", tags=_T, summary="Delete an assignment rule",
                  status_code=204),
        RouteDecl("/assign", assign_all, methods=("POST",), permission="leads.manage_rules",
                  api=True, name="assignUnowned", tags=_T, response_model=Assigned,
                  summary="Assign every lead without an owner through the rules (batch)"),
        RouteDecl("/report/by-source", report, permission="leads.read", api=True,
                  name="reportBySource", tags=_T, response_model=SourceReport,
                  summary="Conversion rate and time to first contact by source"),
        RouteDecl("/upload", upload, methods=("POST",), permission="leads.create", api=True,
                  name="uploadCsv", tags=_T, response_model=Uploaded, status_code=201,
                  summary="Upload leads as CSV (UTF-8 or GBK)",
                  description="Send the file as the body (Content-Type: text/csv). Every row is "
                  "checked first; if any is invalid nothing is stored and the 422 problem lists "
                  "the errors as `row N: field`."),
    ]
