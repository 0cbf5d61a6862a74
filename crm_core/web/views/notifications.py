"""The notifications page (``/notifications``) and the header's unread badge."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.errors import ValidationError
from crm_core.services import notifications as svc
from crm_core.web.auth import ctx_for, current_actor
from crm_core.web.routing import AUTHENTICATED, route
from crm_core.web.templating import render

log = logging.getLogger("crm.web")


def unread_badge(request: Request) -> int:
    """The signed-in user's unread count for the header (0 when signed out or on error pages
    that run before the database is reachable)."""
    if current_actor(request) is None:
        return 0
    cached = getattr(request.state, "crm_unread", None)
    if cached is None:
        try:
            cached = svc.unread_count(ctx_for(request))
        except SQLAlchemyError:  # an error page must still render
            log.warning("unread notifications could not be counted", exc_info=True)
            cached = 0
        request.state.crm_unread = cached
    return int(cached)


def notifications_page(request: Request) -> Response:
    ctx = ctx_for(request)
    unread_only = request.query_params.get("unread") == "1"
    try:
        page = svc.list_notifications(ctx, cursor=request.query_params.get("cursor") or None,
                                      unread_only=unread_only)
    except ValidationError:
        return RedirectResponse("/notifications", 303)
    return render(request, "notifications/list.html", page=page, unread_only=unread_only,
                  unread=svc.unread_count(ctx))


def open_notification(request: Request) -> Response:
    """Mark one read and go to its link (the form on each row posts here)."""
    n = svc.mark_read(ctx_for(request), request.path_params["id"])
    return RedirectResponse(n.url or "/notifications", 303)


def read_all(request: Request) -> Response:
    svc.mark_all_read(ctx_for(request))
    return RedirectResponse("/notifications", 303)


def routes() -> list[BaseRoute]:
    return [
        route("/notifications", notifications_page, permission=AUTHENTICATED, name="notifications"),
        route("/notifications/{id:int}/read", open_notification, permission=AUTHENTICATED,
              methods=("POST",), name="notification_read"),
        route("/notifications/read-all", read_all, permission=AUTHENTICATED, methods=("POST",),
              name="notifications_read_all"),
    ]
