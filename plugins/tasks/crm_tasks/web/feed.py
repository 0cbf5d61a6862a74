"""``GET /tasks/feed/<token>.ics``: public, authenticated by the secret in the URL."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from crm_core.errors import NotFound
from crm_core.web.auth import kernel_of
from crm_tasks.services.calendar import feed_ics, user_for_token


def feed(request: Request) -> Response:
    kernel = kernel_of(request)
    user_id = user_for_token(kernel, request.path_params["token"])
    if user_id is None:
        raise NotFound(f"{request.url.path} does not exist")
    body = feed_ics(kernel, user_id, str(request.base_url))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300",
                             "Content-Disposition": 'inline; filename="tasks.ics"'})
