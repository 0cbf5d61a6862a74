"""The page ``/[[ name ]]/`` and the API ``/api/v1/[[ name ]]/items`` (documented in OpenAPI)."""

from __future__ import annotations

from crm_core.web import ctx_for, render
from crm_core.web.api import read_body, read_query
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from [[ package ]].services import ItemIn, ItemList, ItemQuery, create_item, list_items


def index(request: Request) -> Response:
    items = list_items(ctx_for(request))
    return render(request, "[[ name ]]/index.html", items=items)


def api_list(request: Request) -> Response:
    query, _custom = read_query(request, ItemQuery)
    items = list_items(ctx_for(request), query)
    return JSONResponse(ItemList(items=items).model_dump(mode="json"))


def api_create(request: Request) -> Response:
    item = create_item(ctx_for(request), read_body(request, ItemIn))
    return JSONResponse(item.model_dump(mode="json"), status_code=201)
