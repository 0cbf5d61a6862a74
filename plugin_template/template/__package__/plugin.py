"""The hook implementations: what the plugin contributes to the kernel (docs/plugin-hooks.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crm_core.declarations import Action, EntityDecl, JobDecl, MenuItem, Panel, RouteDecl
from crm_core.hookspecs import hookimpl
from crm_core.web import fragment

from [[ package ]] import services, web
from [[ package ]].models import Item

if TYPE_CHECKING:
    from crm_core.context import Ctx
    from crm_core.events import DomainEvent
    from crm_core.kernel import Kernel


@hookimpl
def register_entities(kernel: Kernel) -> list[EntityDecl]:
    # an item is visible to whoever may see its customer
    return [EntityDecl(name=services.ENTITY, model=Item, label="[[ title ]]事项",
                       label_en="[[ title ]] item", parent=("customer_id", "customer"))]


@hookimpl
def register_permissions(kernel: Kernel) -> list[Action]:
    return [Action(services.ACTION, "使用[[ title ]]", "Use [[ title ]]", entity=services.ENTITY,
                   defaults={"admin": "all", "sales_manager": "team", "sales_rep": "own"})]


@hookimpl
def register_routes(kernel: Kernel) -> list[RouteDecl]:
    return [
        RouteDecl("/", web.index, permission=services.ACTION, name="index"),
        RouteDecl("/items", web.api_list, permission=services.ACTION, api=True, name="list_items",
                  summary="List [[ title ]] items", query_model=services.ItemQuery,
                  response_model=services.ItemList, tags=("[[ name ]]",)),
        RouteDecl("/items", web.api_create, methods=("POST",), permission=services.ACTION, api=True,
                  name="create_item", summary="Add a [[ title ]] item to a customer",
                  request_model=services.ItemIn, response_model=services.ItemRead, status_code=201,
                  tags=("[[ name ]]",)),
    ]


@hookimpl
def register_menu_items(kernel: Kernel) -> list[MenuItem]:
    return [MenuItem("[[ name ]].index", "[[ title ]]", "[[ title ]]", "/[[ name ]]/",
                     permission=services.ACTION, order=80)]


@hookimpl
def register_jobs(kernel: Kernel) -> list[JobDecl]:
    return [JobDecl("[[ name ]].close_stale", _close_stale_job, trigger="cron",
                    trigger_args={"hour": 3, "minute": 10}, misfire_grace_time=3600,
                    description="Close [[ title ]] items open for more than 30 days")]


def _close_stale_job(kernel: Kernel, fire_key: str) -> int:
    return services.close_stale_items(kernel)


@hookimpl
def customer_panels(kernel: Kernel, ctx: Ctx, customer: Any) -> list[Panel]:
    if not ctx.actor.can(services.ACTION):
        return []
    items = services.list_items(ctx, {"customer_id": customer.id, "status": "open"})
    html = fragment(kernel, "[[ name ]]/panel.html", items=items)
    return [Panel("[[ name ]].items", "[[ title ]]", html, order=60)]


@hookimpl
def on_entity_created(kernel: Kernel, event: DomainEvent) -> None:
    """Runs after the creating transaction commits; errors are retried with back-off."""
    if event.name == "customer.created" and event.entity_id is not None:
        services.welcome_new_customer(kernel, event.entity_id, event.payload.get("owner_id"))
