"""The kernel object: one per app (never a module global), so tests stay isolated."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from crm_core import __version__, core_plugin
from crm_core.context import Ctx
from crm_core.crypto import FieldCipher
from crm_core.db import make_engine, writer
from crm_core.declarations import Action, EntityDecl, JobDecl, MenuItem, RouteDecl
from crm_core.errors import PluginError
from crm_core.permissions.actor import SYSTEM, Actor
from crm_core.plugin_system.host import CORE, PluginHost, call_impl
from crm_core.plugin_system.manifest import Manifest
from crm_core.settings import Settings

log = logging.getLogger("crm.kernel")


class Kernel:
    """Settings, database engines, field cipher, plugin host and the collected declarations."""

    version = __version__

    def __init__(
        self,
        settings: Settings,
        *,
        plugins: list[Manifest] | tuple[Manifest, ...] = (),
        autoload: bool | None = None,
        strict: bool | None = None,
        engine: Any = None,
    ) -> None:
        self.settings = settings
        self.cipher = FieldCipher(settings.load_secrets().field_key)
        self.engine = engine or make_engine(settings.database_url)
        self.write_engine = writer(self.engine)
        self.host = PluginHost(
            self,
            extra=plugins,
            autoload=settings.autoload_plugins if autoload is None else autoload,
            strict=settings.strict_plugins if strict is None else strict,
        )
        self.entities: dict[str, tuple[EntityDecl, str]] = {}
        self.actions: dict[str, tuple[Action, str]] = {}
        self.jobs: dict[str, tuple[JobDecl, str]] = {}
        self.menu: list[tuple[MenuItem, str]] = []
        self.routes: list[tuple[RouteDecl, str]] = []
        self.tables: dict[str, str] = {}  # table name → plugin
        self._cache: dict[str, tuple[float, Any]] = {}
        try:
            self.host.load(self.host._read_enabled(), core_plugin)
            self._collect()
        except BaseException:
            if engine is None:  # a kernel that can't start must not leak its connections
                self.engine.dispose()
            raise
        from crm_core.events import EventDispatcher

        self.events = EventDispatcher(self)
        self.started = False

    # -- sessions --------------------------------------------------------------------------
    def new_session(self, write: bool = False) -> Session:
        return Session(self.write_engine if write else self.engine, expire_on_commit=False)

    def cached(self, key: str, loader: Callable[[], Any], ttl: float | None = None) -> Any:
        """A process-local value reloaded after ``ttl`` seconds (default: the plugin refresh
        interval) — for rarely changing configuration rows read on hot paths."""
        ttl = self.settings.plugin_refresh_seconds if ttl is None else ttl
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        value = loader()
        self._cache[key] = (now, value)
        return value

    def invalidate(self, prefix: str) -> None:
        for key in [k for k in self._cache if k.startswith(prefix)]:
            del self._cache[key]

    def ctx(self, actor: Actor = SYSTEM, interface: str = "system") -> Ctx:
        return Ctx(self, actor, interface)

    # -- declarations ----------------------------------------------------------------------
    def _collect(self) -> None:
        self._collect_one(CORE)
        for plugin in list(self.host.order):
            manifest = self.host.records[plugin].manifest
            assert manifest is not None
            bad_dep = next((d for d in manifest.depends if d not in self.host.order), None)
            if bad_dep:
                error = f"plugin {plugin} depends on {bad_dep}, which failed to load"
            else:
                try:
                    self._collect_one(plugin)
                    continue
                except PluginError as exc:
                    error = str(exc)
                except Exception as exc:  # a broken plugin is contained, not fatal
                    error = f"plugin {plugin} failed to declare its contributions: {exc!r}"
            self._forget(plugin)
            self.host.order.remove(plugin)
            self.host._fail(plugin, error)

    def _call_one(self, hook: str, plugin: str) -> list[Any]:
        from crm_core.asyncutil import resolve

        out: list[Any] = []
        for impl in getattr(self.host.pm.hook, hook).get_hookimpls():
            if impl.plugin_name == plugin and not (impl.wrapper or impl.hookwrapper):
                out.extend(resolve(call_impl(impl, kernel=self)) or [])
        return out

    def _claim(
        self, kind: str, key: str, plugin: str, registry: dict[str, Any], staged: set[str]
    ) -> None:
        if key in staged:
            raise PluginError(f"{kind} {key!r} is declared twice by {plugin}")
        staged.add(key)
        if key in registry:
            other = registry[key][1] if isinstance(registry[key], tuple) else registry[key]
            raise PluginError(f"{kind} {key!r} is declared by both {other} and {plugin}")

    def _collect_one(self, plugin: str) -> None:
        prefix = plugin + "_"
        staged_entities = self._call_one("register_entities", plugin)
        staged_actions = self._call_one("register_permissions", plugin)
        staged_jobs = self._call_one("register_jobs", plugin)
        seen: dict[str, set[str]] = {"table": set(), "entity": set(), "permission": set(), "job": set()}
        for e in staged_entities:
            table = e.model.__tablename__
            if plugin != CORE and not table.startswith(prefix):
                raise PluginError(f"plugin {plugin}: table {table!r} must start with {prefix!r}")
            if plugin != CORE and not e.name.startswith(plugin + "."):
                raise PluginError(f"plugin {plugin}: entity {e.name!r} must start with {plugin}.")
            self._claim("table", table, plugin, self.tables, seen["table"])
            self._claim("entity", e.name, plugin, self.entities, seen["entity"])
        for a in staged_actions:
            if plugin != CORE and not a.name.startswith(plugin + "."):
                raise PluginError(f"plugin {plugin}: permission {a.name!r} must start with {plugin}.")
            self._claim("permission", a.name, plugin, self.actions, seen["permission"])
        for j in staged_jobs:
            if not j.id.startswith(plugin + "."):
                raise PluginError(f"plugin {plugin}: job id {j.id!r} must start with {plugin}.")
            self._claim("job", j.id, plugin, self.jobs, seen["job"])
        for e in staged_entities:
            self.tables[e.model.__tablename__] = plugin
            self.entities[e.name] = (e, plugin)
        for a in staged_actions:
            self.actions[a.name] = (a, plugin)
        for j in staged_jobs:
            self.jobs[j.id] = (j, plugin)
        self.menu.extend((m, plugin) for m in self._call_one("register_menu_items", plugin))
        self.routes.extend((r, plugin) for r in self._call_one("register_routes", plugin))

    def _forget(self, plugin: str) -> None:
        for reg in (self.entities, self.actions, self.jobs, self.tables):
            for k in [k for k, v in reg.items() if (v[1] if isinstance(v, tuple) else v) == plugin]:
                del reg[k]
        self.menu = [x for x in self.menu if x[1] != plugin]
        self.routes = [x for x in self.routes if x[1] != plugin]

    def entity(self, name: str) -> EntityDecl:
        try:
            return self.entities[name][0]
        except KeyError:
            raise PluginError(f"no entity named {name!r} is declared") from None

    def is_active(self, plugin: str) -> bool:
        return self.host.is_enabled(plugin)

    def active_actions(self) -> dict[str, Action]:
        return {n: a for n, (a, p) in self.actions.items() if self.is_active(p)}

    def plugin_tables(self, plugin: str) -> list[Any]:
        return [e.model.__table__ for e, p in self.entities.values() if p == plugin]

    # -- lifecycle -------------------------------------------------------------------------
    def startup(self) -> None:
        if self.started:
            return
        self.started = True
        self.notify("on_startup")

    def shutdown(self) -> None:
        if self.started:
            self.notify("on_shutdown")
            self.started = False
        self.engine.dispose()

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Call an ``on_*`` hook on every enabled plugin, isolating each plugin's error."""
        from crm_core.asyncutil import resolve

        for impl in self.host.impls(hook):
            try:
                resolve(call_impl(impl, kernel=self, **kwargs))
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook)
                if self.host.strict:
                    raise
