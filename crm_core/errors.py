"""Typed domain errors. The web layer and the CLI map them to clear messages."""

from __future__ import annotations

from typing import Any


class CRMError(Exception):
    """Base of every error a user can cause. ``type`` is a stable machine-readable slug."""

    type = "crm-error"
    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def __str__(self) -> str:
        return self.message


class ConfigError(CRMError):
    type = "config-error"
    status = 500


class ValidationError(CRMError):
    """Input is invalid. ``errors`` maps a field name to a list of human messages."""

    type = "validation-error"
    status = 422

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        parts = [f"{k}: {'; '.join(v)}" for k, v in self.errors.items()]
        return f"{self.message} ({', '.join(parts)})"


class PermissionDenied(CRMError):
    type = "permission-denied"
    status = 403


class NotFound(CRMError):
    type = "not-found"
    status = 404


class Conflict(CRMError):
    """A stale version or a uniqueness clash; nothing was written."""

    type = "conflict"
    status = 409


class PreconditionFailed(Conflict):
    type = "precondition-failed"
    status = 412


class PluginError(CRMError):
    """A plugin set that cannot start: cycle, missing dependency, bad requires_core, clash."""

    type = "plugin-error"
    status = 500


class PluginDependencyError(PluginError):
    type = "plugin-dependency"
    status = 409
