"""The outermost layer of our own: security headers on every response (errors included), a
request body limit, and the last-resort 500 that never shows a traceback."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_core.web.errors import PayloadTooLarge, crm_error_response, internal_error_response

log = logging.getLogger("crm.web")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
MAX_BODY_SIZE = 32 * 1024 * 1024
_RAW_SECURITY_HEADERS = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                         for k, v in SECURITY_HEADERS.items()]
_RAW_SECURITY_HEADERS_NO_STORE = [*_RAW_SECURITY_HEADERS, (b"cache-control", b"no-store")]
_OURS = frozenset([*(k for k, _ in _RAW_SECURITY_HEADERS), b"cache-control"])


class _TooLarge(Exception):
    pass


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, max_body_size: int = MAX_BODY_SIZE) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        cacheable = scope.get("path", "").startswith("/static/")

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                raw = list(message.get("headers", ()))
                names = {k.lower() for k, _ in raw}
                if names.isdisjoint(_OURS):  # the usual case: append, as MutableHeaders would
                    raw += _RAW_SECURITY_HEADERS if cacheable else _RAW_SECURITY_HEADERS_NO_STORE
                    message["headers"] = raw
                else:
                    headers = MutableHeaders(scope=message)
                    for k, v in SECURITY_HEADERS.items():
                        headers[k] = v
                    if not cacheable and "cache-control" not in headers:
                        headers["Cache-Control"] = "no-store"
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_size:
                    raise _TooLarge
            return message

        try:
            length = Headers(scope=scope).get("content-length")
            if length and length.isdigit() and int(length) > self.max_body_size:
                raise _TooLarge
            await self.app(scope, limited_receive, send_secured)
        except Exception as exc:
            if started:  # too late for an error page; the client sees a cut response
                log.error("error after the response started on %s", scope.get("path"), exc_info=exc)
                return
            request = Request(scope, receive)
            if isinstance(exc, _TooLarge):
                too_large = PayloadTooLarge(f"the request body exceeds {self.max_body_size} bytes")
                response = await run_in_threadpool(crm_error_response, request, too_large)
            else:
                response = await run_in_threadpool(internal_error_response, request, exc)
            await response(scope, receive, send_secured)
