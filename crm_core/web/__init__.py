"""The web shell (Starlette). ``create_app(settings)`` builds the ASGI application."""

from __future__ import annotations

from crm_core.web.app import create_app, create_app_from_env

__all__ = ["create_app", "create_app_from_env"]
