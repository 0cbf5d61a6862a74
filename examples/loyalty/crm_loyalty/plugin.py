"""The loyalty plugin's hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crm_core.declarations import Action, EntityDecl, JobDecl, Panel, RouteDecl
from crm_core.hookspecs import hookimpl
from crm_core.web import ctx_for, fragment
from crm_core.web.i18n import gettext
from crm_loyalty import services
from crm_loyalty.models import LoyaltyEntry

if TYPE_CHECKING:
    from crm_core.context import Ctx
    from crm_core.events import DomainEvent
    from crm_core.kernel import Kernel


def customer_points(request: Request) -> Response:
    found = services.balance(ctx_for(request), int(request.path_params["customer_id"]))
    return JSONResponse(found.model_dump(mode="json"))


@hookimpl
def register_entities(kernel: Kernel) -> list[EntityDecl]:
    return [EntityDecl(name=services.ENTITY, model=LoyaltyEntry, label="积分记录", label_en="Points entry",
                       parent=("customer_id", "customer"))]


@hookimpl
def register_permissions(kernel: Kernel) -> list[Action]:
    return [Action(services.VIEW, "查看客户积分", "See loyalty points", entity=services.ENTITY,
                   defaults={"admin": "all", "sales_manager": "team", "sales_rep": "own",
                             "service_agent": "all"})]


@hookimpl
def register_routes(kernel: Kernel) -> list[RouteDecl]:
    return [RouteDecl("/customers/{customer_id:int}", customer_points, permission=services.VIEW, api=True,
                      name="customer_points", summary="A customer's loyalty points",
                      response_model=services.Balance, tags=("loyalty",))]


@hookimpl
def register_jobs(kernel: Kernel) -> list[JobDecl]:
    return [JobDecl("loyalty.expire_points", lambda k, fire_key: services.expire_points(k),
                    trigger="cron", trigger_args={"hour": 2, "minute": 30}, misfire_grace_time=6 * 3600,
                    description="Expire loyalty points earned more than a year ago")]


@hookimpl
def on_event(kernel: Kernel, event: DomainEvent) -> None:
    if event.name == "opportunity.won":
        services.award_for_won_opportunity(kernel, event.payload)


@hookimpl
def customer_panels(kernel: Kernel, ctx: Ctx, customer: Any) -> list[Panel]:
    if not ctx.actor.can(services.VIEW):
        return []
    found = services.balance(ctx, customer.id, limit=5)
    html = fragment(kernel, "loyalty/panel.html", balance=found)
    return [Panel("loyalty.points", gettext("Loyalty points"), html, order=70)]
