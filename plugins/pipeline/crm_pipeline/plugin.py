"""The pipeline plugin's hook implementations."""

from __future__ import annotations

from typing import Any

from crm_core.declarations import Action, EntityDecl, MenuItem, Panel, RouteDecl
from crm_core.hookspecs import hookimpl


@hookimpl
def register_entities(kernel: Any) -> list[EntityDecl]:
    from crm_pipeline import models

    return [
        EntityDecl("pipeline.opportunity", models.Opportunity, "销售机会", "Opportunity",
                   owner_column="owner_id", read_action="pipeline.read", custom_fields=True),
        EntityDecl("pipeline.pipeline", models.Pipeline, "销售流程", "Pipeline"),
        EntityDecl("pipeline.stage", models.Stage, "销售阶段", "Stage",
                   parent=("pipeline_id", "pipeline.pipeline")),
        EntityDecl("pipeline.stage_history", models.StageHistory, "阶段历史", "Stage history",
                   parent=("opportunity_id", "pipeline.opportunity")),
        EntityDecl("pipeline.approval", models.Approval, "审批", "Approval",
                   parent=("opportunity_id", "pipeline.opportunity")),
    ]


@hookimpl
def register_permissions(kernel: Any) -> list[Action]:
    from crm_pipeline.permissions import ACTIONS

    return ACTIONS


@hookimpl
def register_routes(kernel: Any) -> list[RouteDecl]:
    from crm_pipeline.web import admin, api, forms, pages

    one = "/opportunities/{id:int}"
    post = ("POST",)
    return [
        RouteDecl("/", pages.board_page, permission="pipeline.read", name="board"),
        RouteDecl("/list", pages.list_page, permission="pipeline.read", name="list"),
        RouteDecl("/opportunities/new", forms.new_form, permission="pipeline.create", name="new"),
        RouteDecl("/opportunities/new", forms.create_submit, methods=post,
                  permission="pipeline.create", name="create"),
        RouteDecl(one, pages.detail_page, permission="pipeline.read", name="detail"),
        RouteDecl(f"{one}/edit", forms.edit_form, permission="pipeline.update", name="edit"),
        RouteDecl(f"{one}/edit", forms.edit_submit, methods=post, permission="pipeline.update",
                  name="save"),
        RouteDecl(f"{one}/move", pages.move_submit, methods=post, permission="pipeline.update",
                  name="move"),
        RouteDecl(f"{one}/win", pages.win_submit, methods=post, permission="pipeline.update",
                  name="win"),
        RouteDecl(f"{one}/lose", pages.lose_submit, methods=post, permission="pipeline.update",
                  name="lose"),
        RouteDecl(f"{one}/milestones", pages.milestone_submit, methods=post,
                  permission="pipeline.update", name="milestone"),
        RouteDecl(f"{one}/approval", pages.approval_request_submit, methods=post,
                  permission="pipeline.update", name="approval_request"),
        RouteDecl(f"{one}/approval/decision", pages.approval_decide_submit, methods=post,
                  permission="pipeline.approve", name="approval_decide"),
        RouteDecl(f"{one}/delete", pages.delete_page, permission="pipeline.delete",
                  name="delete_confirm"),
        RouteDecl(f"{one}/delete", pages.delete_submit, methods=post,
                  permission="pipeline.delete", name="delete"),
        RouteDecl("/forecast", admin.forecast_page, permission="pipeline.read", name="forecast"),
        RouteDecl("/approvals", admin.approvals_page, permission="pipeline.approve",
                  name="approvals"),
        RouteDecl("/settings", admin.settings_page, permission="pipeline.manage",
                  name="settings"),
        RouteDecl("/settings/pipelines", admin.pipeline_submit, methods=post,
                  permission="pipeline.manage", name="pipeline_create"),
        RouteDecl("/settings/pipelines/{key}", admin.pipeline_submit, methods=post,
                  permission="pipeline.manage", name="pipeline_save"),
        RouteDecl("/settings/pipelines/{key}/stages", admin.stage_submit, methods=post,
                  permission="pipeline.manage", name="stage_add"),
        RouteDecl("/settings/pipelines/{key}/stages/{stage}", admin.stage_submit, methods=post,
                  permission="pipeline.manage", name="stage_save"),
        *api.routes(),
    ]


@hookimpl
def register_menu_items(kernel: Any) -> list[MenuItem]:
    return [
        MenuItem("pipeline.board", "销售机会", "Opportunities", "/pipeline/",
                 permission="pipeline.read", order=30),
        MenuItem("pipeline.forecast", "销售预测", "Forecast", "/pipeline/forecast",
                 permission="pipeline.read", order=31),
        MenuItem("pipeline.approvals", "机会审批", "Approvals", "/pipeline/approvals",
                 permission="pipeline.approve", order=32),
        MenuItem("pipeline.settings", "销售流程设置", "Pipeline settings", "/pipeline/settings",
                 permission="pipeline.manage", order=90),
    ]


@hookimpl
def customer_panels(kernel: Any, ctx: Any, customer: Any) -> list[Panel]:
    from crm_pipeline.web.slots import customer_panel

    panel = customer_panel(kernel, ctx, customer)
    return [panel] if panel is not None else []


@hookimpl
def dashboard_widgets(kernel: Any, ctx: Any) -> list[Panel]:
    from crm_pipeline.web.slots import dashboard_widget

    widget = dashboard_widget(kernel, ctx)
    return [widget] if widget is not None else []


@hookimpl
def load_demo_data(kernel: Any, ctx: Any, seed: int) -> None:
    from crm_pipeline.demo import load

    load(kernel, ctx, seed)
