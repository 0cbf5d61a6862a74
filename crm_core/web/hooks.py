"""The web layer's hook implementations, registered on the kernel's plugin manager as
``core_web`` when the app starts (always active, like the kernel's own ``core``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from starlette.requests import Request

    from crm_core.kernel import Kernel
    from crm_core.permissions.actor import Actor

NAME = "core_web"


@hookimpl(trylast=True)
def actor_from_request(kernel: Kernel, request: Request) -> Actor | None:
    """Bearer token (``Authorization: Bearer mcrm_…``), else the session cookie."""
    from crm_core.web.auth import resolve_from_credentials

    return resolve_from_credentials(kernel, request)
