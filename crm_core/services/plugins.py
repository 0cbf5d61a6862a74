"""Switching modules on and off: permission-checked, audited, the same for CLI, pages and API."""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.context import Ctx
from crm_core.migrate import enable_plugins
from crm_core.permissions.scope import require
from crm_core.services.base import record


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    label: str
    summary: str
    category: str
    stages: tuple[str, ...]
    depends: tuple[str, ...]
    dependents: tuple[str, ...]
    enabled: bool
    status: str  # loaded / failed
    error: str | None


def list_plugins(ctx: Ctx) -> list[PluginInfo]:
    """Every installed plugin (failed ones too), for the modules page, API and CLI."""
    host = ctx.kernel.host
    enabled = host.enabled(refresh=True)
    manifests = host.manifests()
    locale = ctx.actor.locale
    out = []
    for name, rec in sorted(host.records.items()):
        m = rec.manifest
        dependents = tuple(sorted(n for n, o in manifests.items() if name in o.depends))
        out.append(PluginInfo(
            name=name, version=m.version if m else "", label=m.display_name(locale) if m else name,
            summary=(m.summary_i18n.get(locale) or m.summary) if m else "",
            category=m.category if m else "", stages=m.stages if m else (),
            depends=m.depends if m else (), dependents=dependents, enabled=name in enabled,
            status=rec.status, error=rec.error,
        ))
    return out


def enable(ctx: Ctx, names: list[str]) -> list[str]:
    """Enable plugins with their dependencies (and glue plugins that now apply); returns every
    plugin switched on. Their tables are migrated first."""
    require(ctx.actor, "plugins.manage")
    done = enable_plugins(ctx.kernel, names)
    if done:
        with ctx.uow() as s:
            record(ctx, s, action="plugin.enable", entity="plugin", entity_id=None,
                   changes={n: [False, True] for n in done}, summary=", ".join(done),
                   event="plugin.enabled", payload={"plugins": done})
    return done


def plan_enable(ctx: Ctx, names: list[str]) -> list[str]:
    """What an enable would switch on: the plugins, the dependencies they take along and glue
    plugins that then apply (raises PluginError for a plugin that failed to load)."""
    require(ctx.actor, "plugins.manage")
    return ctx.kernel.host.plan_enable(names)


def plan_disable(ctx: Ctx, names: list[str], cascade: bool = False) -> list[str]:
    """What a disable would switch off (raises PluginDependencyError naming the dependents)."""
    require(ctx.actor, "plugins.manage")
    return ctx.kernel.host.plan_disable(names, cascade=cascade)


def disable(ctx: Ctx, names: list[str], cascade: bool = False) -> list[str]:
    """Disable plugins (with their enabled dependents when ``cascade``); data stays."""
    todo = plan_disable(ctx, names, cascade)
    ctx.kernel.host.set_enabled(todo, False)
    if todo:
        with ctx.uow() as s:
            record(ctx, s, action="plugin.disable", entity="plugin", entity_id=None,
                   changes={n: [True, False] for n in todo}, summary=", ".join(todo),
                   event="plugin.disabled", payload={"plugins": todo})
    return todo
