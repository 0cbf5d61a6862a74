"""The OpenAPI document itself, and ``/api/v1/me`` (routed in :mod:`crm_core.web.views.home`,
documented here)."""

from __future__ import annotations

from starlette.responses import JSONResponse

from crm_core.web.api.models import MeRead
from crm_core.web.api.operations import API, Call, Op
from crm_core.web.routing import AUTHENTICATED


def openapi_json(c: Call) -> JSONResponse:
    from crm_core.web.api import openapi_document

    return JSONResponse(openapi_document(c.ctx.kernel))


def operations() -> list[Op]:
    return [
        Op("GET", f"{API}/openapi.json", "getOpenApi", "This OpenAPI 3.1 document", "meta",
           AUTHENTICATED, openapi_json,
           "Generated from the models the server validates with; enabled modules' endpoints "
           "included, custom-field filters as they are now."),
        Op("GET", f"{API}/me", "getMe", "Who you are", "meta", AUTHENTICATED, None,
           "The user the credentials belong to, their roles, and every permission they hold with "
           "its scope.", response_model=MeRead),
    ]
