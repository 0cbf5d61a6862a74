"""The plugin host: discovery, loading, pluggy registration, enabled state."""

from __future__ import annotations

import importlib
import inspect
import logging
import time
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import col

from crm_core import __version__, hookspecs
from crm_core.asyncutil import resolve
from crm_core.db import utcnow
from crm_core.errors import PluginDependencyError, PluginError
from crm_core.models import PluginState
from crm_core.plugin_system.manifest import Manifest
from crm_core.plugin_system.resolve import (
    dependency_closure,
    dependents_closure,
    find_problems,
    load_order,
)

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

log = logging.getLogger("crm.plugins")
ENTRY_POINT_GROUP = "crm.plugins"
CORE = "core"


@dataclass
class PluginRecord:
    name: str
    manifest: Manifest | None
    source: str  # "entry point <ep>" / "code"
    obj: Any = None
    status: str = "loaded"  # loaded / failed
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "loaded"


class PluginHost:
    def __init__(
        self,
        kernel: Kernel,
        extra: list[Manifest] | tuple[Manifest, ...] = (),
        autoload: bool = True,
        strict: bool = False,
    ) -> None:
        self.kernel = kernel
        self.strict = strict
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.order: list[str] = []
        self._extra = list(extra)
        self._autoload = autoload
        self._enabled_cache: frozenset[str] | None = None
        self._enabled_read_at = 0.0
        self._subset_cache: dict[tuple[str, frozenset[str]], Any] = {}
        self._aliases: dict[str, list[str]] = {}  # replacement hook → deprecated hooks

    # -- loading ---------------------------------------------------------------------------
    def _fail(self, name: str, error: str) -> None:
        if self.strict:
            raise PluginError(error)
        log.error("plugin %s failed: %s", name, error)
        rec = self.records.get(name)
        if rec is None:
            self.records[name] = PluginRecord(name, None, "unknown", status="failed", error=error)
        else:
            if rec.obj is not None and self.pm.is_registered(rec.obj):
                self.pm.unregister(rec.obj)
            rec.status, rec.error = "failed", error

    def discover(self) -> None:
        if self._autoload:
            for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
                try:
                    manifest = ep.load()
                    if not isinstance(manifest, Manifest):
                        raise PluginError(
                            f"entry point {ep.value} must point to a crm_core Manifest, "
                            f"got {type(manifest).__name__}"
                        )
                    if manifest.name != ep.name:
                        raise PluginError(
                            f"entry point {ep.name!r} gives a manifest named {manifest.name!r}"
                        )
                except Exception as exc:  # a broken distribution must not stop the CRM
                    self.records[ep.name] = PluginRecord(ep.name, None, f"entry point {ep.value}")
                    self._fail(ep.name, f"cannot load manifest of plugin {ep.name}: {exc}")
                    continue
                self.records[manifest.name] = PluginRecord(
                    manifest.name, manifest, f"entry point {ep.value}"
                )
        for manifest in self._extra:
            self.records[manifest.name] = PluginRecord(manifest.name, manifest, "code")

    def load(self, enabled_in_db: set[str], core: Any) -> None:
        """Register the kernel's own implementations (``core``), then every plugin."""
        self.pm.register(core, name=CORE)
        self.discover()
        manifests = {n: r.manifest for n, r in self.records.items() if r.ok and r.manifest}
        broken = {n: r.error or "failed" for n, r in self.records.items() if not r.ok}
        problems = find_problems(manifests, __version__, broken)
        for name, why in sorted(problems.items()):
            if name in broken:
                continue
            if self.strict or name in enabled_in_db:
                raise PluginError(why)
            self._fail(name, why)
        good = {n: m for n, m in manifests.items() if n not in problems}
        for name in load_order(good):
            rec = self.records[name]
            bad_dep = next((d for d in good[name].depends if not self.records[d].ok), None)
            if bad_dep:
                self._fail(name, f"plugin {name} depends on {bad_dep}, which failed to load")
                continue
            try:
                rec.obj = _import_hooks(good[name])
                if good[name].hookspecs is not None:
                    # before registering anything that implements them (dependents load later)
                    self.pm.add_hookspecs(_import_hookspecs(good[name]))
                self.pm.register(rec.obj, name=name)
            except Exception as exc:
                if self.strict:
                    raise PluginError(f"plugin {name} failed to load: {exc!r}") from exc
                self._fail(name, f"plugin {name} failed to load: {exc!r}")
                continue
            problem = self._check_impls(name, rec.obj)
            if problem:
                self._fail(name, problem)
                continue
            for dep in self.deprecated_hooks(name):
                log.warning("plugin %s: %s", name, dep.message)
            self.order.append(name)
        self.pm.check_pending()
        self.refresh_aliases()
        if self.kernel.settings.trace_hooks:
            self._trace()

    def _check_impls(self, name: str, obj: Any) -> str | None:
        """Why the hook implementations of a just registered plugin can't run, or ``None``."""
        unknown: list[str] = []
        not_sync: list[str] = []
        renamed: list[str] = []
        for hc in self.pm.get_hookcallers(obj) or []:
            impls = [i for i in hc.get_hookimpls() if i.plugin is obj]
            if not hc.has_spec():
                unknown.extend(hc.name for i in impls if not i.optionalhook)
                continue
            assert hc.spec is not None
            if hc.spec.opts.get("firstresult"):
                not_sync.extend(hc.name for i in impls if _is_async(i.function))
            # disabled plugins are filtered out of hook calls by attribute name
            renamed.extend(hc.name for i in impls if not hasattr(obj, hc.name))
        if unknown:
            return f"plugin {name} implements unknown hook(s) {', '.join(sorted(unknown))}"
        if not_sync:
            return (f"plugin {name}: first-result hook(s) {', '.join(sorted(not_sync))} "
                    "must be synchronous")
        if renamed:
            return (f"plugin {name}: name the implementation of {', '.join(sorted(renamed))} "
                    "after the hook (specname is not supported)")
        try:
            hash(obj)
        except TypeError:
            return f"plugin {name}: its hooks object must be hashable"
        return None

    def _trace(self) -> None:
        tlog = logging.getLogger("crm.hooks")
        if tlog.level == logging.NOTSET:  # shown even where the root logger only shows warnings
            tlog.setLevel(logging.INFO)
        starts: dict[int, float] = {}

        def before(hook_name: str, impls: Any, kwargs: Any) -> None:
            starts[id(kwargs)] = time.perf_counter()

        def after(outcome: Any, hook_name: str, impls: Any, kwargs: Any) -> None:
            t = (time.perf_counter() - starts.pop(id(kwargs), time.perf_counter())) * 1000
            names = ",".join(i.plugin_name for i in impls)
            tlog.info("hook %s [%s] %.2f ms", hook_name, names, t)

        self.pm.add_hookcall_monitoring(before, after)

    # -- deprecated hooks ------------------------------------------------------------------
    def refresh_aliases(self) -> None:
        """Map each replacement hook to the deprecated hooks the kernel calls along with it."""
        aliases: dict[str, list[str]] = {}
        for name, hc in sorted(vars(self.pm.hook).items()):
            info = hookspecs.deprecation_of(hc.spec.function) if getattr(hc, "spec", None) else None
            if info is not None:
                aliases.setdefault(info.replacement, []).append(name)
        self._aliases = aliases

    def deprecated_hooks(self, name: str) -> list[hookspecs.Deprecation]:
        """The deprecated hooks plugin ``name`` implements."""
        rec = self.records.get(name)
        if rec is None or rec.obj is None or not self.pm.is_registered(rec.obj):
            return []
        out = []
        for hc in self.pm.get_hookcallers(rec.obj) or []:
            info = hookspecs.deprecation_of(hc.spec.function) if hc.spec else None
            if info is not None:
                out.append(info)
        return sorted(out, key=lambda d: d.hook)

    # -- queries ---------------------------------------------------------------------------
    def manifests(self) -> dict[str, Manifest]:
        return {n: r.manifest for n, r in self.records.items() if r.ok and r.manifest}

    def loaded(self) -> list[str]:
        return list(self.order)

    def record(self, name: str) -> PluginRecord:
        try:
            return self.records[name]
        except KeyError:
            raise PluginError(f"no plugin named {name!r} is installed") from None

    def enabled(self, refresh: bool = False) -> frozenset[str]:
        """Loaded plugins enabled in the database; re-read at most every few seconds so every
        process follows a toggle without a restart."""
        now = time.monotonic()
        ttl = self.kernel.settings.plugin_refresh_seconds
        if refresh or self._enabled_cache is None or now - self._enabled_read_at >= ttl:
            names = self._read_enabled()
            self._enabled_cache = frozenset(n for n in names if n in self.order)
            self._enabled_read_at = now
        return self._enabled_cache

    def _read_enabled(self) -> set[str]:
        try:
            with self.kernel.new_session() as s:
                return set(s.scalars(select(col(PluginState.name)).where(col(PluginState.enabled))).all())
        except (OperationalError, ProgrammingError):  # before `crm init` created the tables
            return set()

    def is_enabled(self, name: str) -> bool:
        return name == CORE or name in self.enabled()

    def hook_caller(self, hook_name: str) -> HookCall:
        """A caller of ``hook_name`` over the enabled plugins (and the kernel), in hook order.

        Call it with keyword arguments; all-results hooks return the list of results with
        awaitables resolved, first-result hooks the first non-``None`` result."""
        enabled = self.enabled()
        disabled = frozenset(n for n in self.order if n not in enabled)
        key = (hook_name, disabled)
        caller = self._subset_cache.get(key)
        if caller is None:
            objs = [self.records[n].obj for n in disabled]
            caller = HookCall(self.pm.subset_hook_caller(hook_name, remove_plugins=objs))
            self._subset_cache[key] = caller
        return caller

    def impls(self, hook_name: str, include_disabled: bool = False) -> list[Any]:
        """Hook implementations in call order (last registered first), enabled only, for the
        kernel to call one by one with :func:`call_impl`. Wrappers are left out: they only
        apply to calls made through :meth:`hook_caller`."""
        enabled = self.enabled()
        out = []
        for name in (hook_name, *self._aliases.get(hook_name, ())):  # deprecated aliases last
            for impl in reversed(getattr(self.pm.hook, name).get_hookimpls()):
                if impl.wrapper or impl.hookwrapper:
                    continue
                if include_disabled or impl.plugin_name == CORE or impl.plugin_name in enabled:
                    out.append(impl)
        return out

    # -- toggling --------------------------------------------------------------------------
    def plan_enable(self, names: list[str]) -> list[str]:
        for n in names:
            rec = self.record(n)
            if not rec.ok:
                raise PluginError(f"plugin {n} cannot be enabled: {rec.error}")
        manifests = self.manifests()
        closure = dependency_closure(manifests, names)
        for n in closure:
            if n not in self.order:
                raise PluginError(f"plugin {n} cannot be enabled: {self.record(n).error}")
        enabled = set(self.enabled(refresh=True)) | closure
        # glue plugins switch on when all their dependencies are on
        changed = True
        while changed:
            changed = False
            for n in self.order:
                m = manifests[n]
                if m.auto_install and n not in enabled and m.depends and set(m.depends) <= enabled:
                    enabled.add(n)
                    closure.add(n)
                    changed = True
        current = self.enabled()
        return [n for n in self.order if n in closure and n not in current]

    def plan_disable(self, names: list[str], cascade: bool = False) -> list[str]:
        for n in names:
            self.record(n)
        current = self.enabled(refresh=True)
        manifests = self.manifests()
        dependents = sorted(d for d in dependents_closure(manifests, names) if d in current)
        # glue plugins (auto_install) switched on with their dependencies go off with them
        blocking = [d for d in dependents if not manifests[d].auto_install]
        if blocking and not cascade:
            raise PluginDependencyError(
                f"cannot disable {', '.join(names)}: enabled plugin(s) "
                f"{', '.join(blocking)} depend on it (use --cascade to disable them too)",
                dependents=blocking,
            )
        todo = set(names) | set(dependents)
        return [n for n in reversed(self.order) if n in todo and n in current]

    def set_enabled(self, names: list[str], enabled: bool) -> None:
        if not names:
            return
        with self.kernel.new_session(write=True) as s, s.begin():
            for n in names:
                rec = self.records[n]
                row = s.get(PluginState, n)
                if row is None:
                    row = PluginState(name=n)
                    s.add(row)
                row.enabled = enabled
                row.version = rec.manifest.version if rec.manifest else ""
                row.error = None
                row.updated_at = utcnow()
        self.enabled(refresh=True)


class HookCall:
    """A pluggy hook caller that applies the kernel's async rule: a hook implementation may
    return an awaitable, which is resolved (first-result hooks are synchronous, checked at
    load). Other attributes are the pluggy caller's."""

    def __init__(self, caller: Any) -> None:
        self._caller = caller
        spec = caller.spec
        self._firstresult = bool(spec and spec.opts.get("firstresult"))

    def __call__(self, **kwargs: Any) -> Any:
        result = self._caller(**kwargs)
        if self._firstresult:
            return result
        out = []
        for i, r in enumerate(result):
            try:
                out.append(resolve(r))
            except BaseException:
                for rest in result[i + 1 :]:  # never awaited: close, don't leak a warning
                    if inspect.iscoroutine(rest):
                        rest.close()
                raise
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._caller, name)


def call_impl(impl: Any, **kwargs: Any) -> Any:
    """Call one hook implementation the way pluggy does: with only the arguments it names
    (an implementation may accept a subset of the hook's parameters). With ``trace_hooks`` on
    (``CRM_TRACE_HOOKS=1``) the call is logged with its timing, like calls made through pluggy."""
    kernel = kwargs.get("kernel")
    if kernel is None or not kernel.settings.trace_hooks:
        return impl.function(*[kwargs[a] for a in impl.argnames])
    start = time.perf_counter()
    try:
        return impl.function(*[kwargs[a] for a in impl.argnames])
    finally:
        logging.getLogger("crm.hooks").info("hook %s [%s] %.2f ms", impl.function.__name__,
                                            impl.plugin_name, (time.perf_counter() - start) * 1000)


def _is_async(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


def _import_hookspecs(manifest: Manifest) -> Any:
    specs = manifest.hookspecs
    return importlib.import_module(specs) if isinstance(specs, str) else specs


def _import_hooks(manifest: Manifest) -> Any:
    hooks = manifest.hooks
    if hooks is None:
        raise PluginError(f"plugin {manifest.name} names no hooks module")
    if isinstance(hooks, str):
        return importlib.import_module(hooks)
    return hooks
