"""The JSON API under ``/api/v1``: customers, contacts, follow-ups, users, teams, roles, custom
fields, modules and the audit log, and its OpenAPI 3.1 document.

Every endpoint is an :class:`~crm_core.web.api.operations.Op`: a declaration from which both the
guarded route and the OpenAPI operation are built (see :mod:`crm_core.web.api.operations` for the
input rules every endpoint shares). Handlers only call the services.

Plugins' API routes (``RouteDecl(api=True)``) are mounted by the web layer under
``/api/v1/<plugin>/``; declare their models on the ``RouteDecl`` and validate with the same
models through :func:`read_query` and :func:`read_body` to get the same 400/422 problems::

    from crm_core.web.api import read_body, read_query

    def create_item(request):
        item = read_body(request, ItemIn)            # 422 with per-field errors
        ...

    RouteDecl("/items", create_item, methods=("POST",), api=True, permission="shop.edit",
              request_model=ItemIn, response_model=ItemOut, status_code=201, summary="Add an item")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crm_core.web.api.operations import (
    BadRequest,
    Call,
    Op,
    PreconditionRequired,
    api_route,
    read_body,
    read_if_match,
    read_path,
    read_query,
)

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from crm_core.kernel import Kernel


def core_operations() -> list[Op]:
    """Every operation of the core API, in the order the reference lists them."""
    from crm_core.web.api import admin, customers, meta, notifications, system

    return [*customers.operations(), *admin.operations(), *system.operations(),
            *notifications.operations(), *meta.operations()]


def routes() -> list[BaseRoute]:
    """The routes of the core operations (``/api/v1/me`` is routed with the home views)."""
    return [api_route(op) for op in core_operations() if op.handler is not None]


def openapi_document(kernel: Kernel) -> dict[str, Any]:
    """The OpenAPI 3.1 document as it is now (enabled plugins, active custom fields)."""
    from crm_core.web.api.openapi import document

    return document(kernel, core_operations())


__all__ = [
    "BadRequest",
    "Call",
    "Op",
    "PreconditionRequired",
    "api_route",
    "core_operations",
    "openapi_document",
    "read_body",
    "read_if_match",
    "read_path",
    "read_query",
    "routes",
]
