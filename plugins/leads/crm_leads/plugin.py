"""The leads plugin's hook implementations."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import col

from crm_core.declarations import Action, EntityDecl, MenuItem, Panel, RouteDecl
from crm_core.hookspecs import hookimpl

A, M, R = "admin", "sales_manager", "sales_rep"


def _rec(verb: str, zh: str, en: str, **defaults: str) -> Action:
    return Action(f"leads.{verb}", zh, en, entity="leads.lead", defaults={A: "all", **defaults})


@hookimpl
def register_entities(kernel: Any) -> list[EntityDecl]:
    from crm_leads.models import AssignmentRule, FormHit, FormToken, Lead, RotationPointer

    return [
        EntityDecl("leads.lead", Lead, "线索", "Lead", owner_column="owner_id",
                   read_action="leads.read", custom_fields=True,
                   sensitive_fields={"phone": "contacts.see_phone"}),
        EntityDecl("leads.rule", AssignmentRule, "分配规则", "Assignment rule"),
        EntityDecl("leads.rotation", RotationPointer, "轮询位置", "Round-robin position"),
        EntityDecl("leads.form_token", FormToken, "网页表单", "Web form"),
        EntityDecl("leads.form_hit", FormHit, "表单提交计数", "Web form submissions"),
    ]


@hookimpl
def register_permissions(kernel: Any) -> list[Action]:
    return [
        _rec("read", "查看线索", "Read leads", **{M: "team", R: "own"}),
        _rec("create", "新建线索", "Create leads", **{M: "team", R: "own"}),
        _rec("update", "编辑线索", "Edit leads", **{M: "team", R: "own"}),
        _rec("delete", "删除线索", "Delete leads", **{M: "team"}),
        _rec("assign", "分配线索", "Reassign leads", **{M: "team"}),
        _rec("convert", "转化线索", "Convert leads", **{M: "team", R: "own"}),
        Action("leads.manage_rules", "管理线索分配规则与网页表单", "Manage lead rules and web forms",
               defaults={A: True}),
    ]


@hookimpl
def register_routes(kernel: Any) -> list[RouteDecl]:
    from crm_leads.web import admin, api, pages, public

    one = "/{id:int}"
    return [
        RouteDecl("/", pages.lead_list, permission="leads.read", name="list"),
        RouteDecl("/new", pages.lead_new, methods=("GET", "POST"), permission="leads.create",
                  name="new"),
        RouteDecl(one, pages.lead_detail, permission="leads.read", name="detail"),
        RouteDecl(one + "/edit", pages.lead_edit, methods=("GET", "POST"), permission="leads.update"),
        RouteDecl(one + "/contacted", pages.lead_contacted, methods=("POST",),
                  permission="leads.update"),
        RouteDecl(one + "/reassign", pages.lead_reassign, methods=("POST",), permission="leads.assign"),
        RouteDecl(one + "/convert", pages.lead_convert, methods=("GET", "POST"),
                  permission="leads.convert"),
        RouteDecl("/report", pages.report, permission="leads.read", name="report"),
        RouteDecl("/upload", pages.upload, methods=("GET", "POST"), permission="leads.create"),
        RouteDecl("/rules", admin.rules_page, methods=("GET", "POST"),
                  permission="leads.manage_rules", name="rules"),
        RouteDecl("/forms", admin.forms_page, methods=("GET", "POST"),
                  permission="leads.manage_rules", name="forms"),
        RouteDecl("/form/{token}", public.public_form, methods=("GET", "POST"), permission="public",
                  csrf=False, name="public_form"),
        *api.routes(),
    ]


@hookimpl
def register_menu_items(kernel: Any) -> list[MenuItem]:
    return [
        MenuItem("leads.list", "线索", "Leads", "/leads/", permission="leads.read", order=15),
        MenuItem("leads.rules", "线索分配规则", "Lead rules", "/leads/rules",
                 permission="leads.manage_rules", order=85),
    ]


@hookimpl
def customer_panels(kernel: Any, ctx: Any, customer: Any) -> list[Panel]:
    from crm_core.permissions.scope import scope_clause
    from crm_core.web import fragment
    from crm_leads.models import Lead

    if not ctx.actor.can("leads.read"):
        return []
    with ctx.reader() as s:
        rows = list(s.scalars(select(Lead).where(
            col(Lead.converted_customer_id) == customer.id,
            scope_clause(kernel, ctx.actor, "leads.lead", "leads.read")).order_by(col(Lead.id)).limit(20)))
    if not rows:
        return []
    from crm_core.web.i18n import gettext

    return [Panel("leads.converted", gettext("Converted from leads"),
                  fragment(kernel, "leads/panel.html", leads=rows), order=40)]


@hookimpl
def dashboard_widgets(kernel: Any, ctx: Any) -> list[Panel]:
    from crm_core.permissions.scope import scope_clause
    from crm_core.web import fragment
    from crm_core.web.i18n import gettext
    from crm_leads.models import OPEN_STATUSES, Lead

    if not ctx.actor.can("leads.read"):
        return []
    tz = ZoneInfo(ctx.actor.timezone)
    start = datetime.combine(datetime.now(tz).date(), time.min, tz)
    scope = scope_clause(kernel, ctx.actor, "leads.lead", "leads.read")
    with ctx.reader() as s:
        today = s.scalar(select(func.count()).select_from(Lead).where(
            scope, col(Lead.created_at) >= start)) or 0
        mine = s.scalar(select(func.count()).select_from(Lead).where(
            col(Lead.owner_id) == ctx.actor.id, col(Lead.status).in_(OPEN_STATUSES))) or 0
        new_mine = s.scalar(select(func.count()).select_from(Lead).where(
            col(Lead.owner_id) == ctx.actor.id, col(Lead.status) == "new")) or 0
    return [Panel("leads.today", gettext("Leads"),
                  fragment(kernel, "leads/widget.html", today=today, mine=mine, new_mine=new_mine),
                  order=25)]


@hookimpl
def load_demo_data(kernel: Any, ctx: Any, seed: int) -> None:
    from crm_leads.demo import load

    load(kernel, ctx, seed)
