"""``/admin/modules``: every installed plugin, switched on and off without a restart."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.errors import NotFound, PluginDependencyError, PluginError
from crm_core.plugin_system.resolve import dependency_closure, dependents_closure
from crm_core.services import plugins as plugin_svc
from crm_core.web.auth import ctx_for, kernel_of
from crm_core.web.i18n import N_
from crm_core.web.routing import route
from crm_core.web.views.admin_forms import GENERAL, Form, page, reauthorize, translate

PERMISSION = "plugins.manage"
STAGE_NAMES = {"startup": N_("Startup"), "growth": N_("Growing"), "mature": N_("Mature"),
               "traditional": N_("Moving off spreadsheets")}


def _known(request: Request) -> str:
    name = str(request.path_params["name"])
    if name not in kernel_of(request).host.records:
        raise NotFound(f"no plugin named {name!r} is installed")
    return name


def _names(request: Request, key: str) -> list[str]:
    """Plugin names from a notice in the query string (only installed ones are shown)."""
    known = kernel_of(request).host.records
    return [n for n in request.query_params.get(key, "").split(",") if n in known]


def modules(request: Request) -> Response:
    return _list_page(request, Form())


def _list_page(request: Request, form: Form, status_code: int = 200) -> Response:
    ctx = ctx_for(request)
    plugins = plugin_svc.list_plugins(ctx)
    takes_along: dict[str, list[str]] = {}
    for p in plugins:
        if p.status == "loaded" and not p.enabled:
            try:
                takes_along[p.name] = [n for n in plugin_svc.plan_enable(ctx, [p.name]) if n != p.name]
            except PluginError:  # a dependency failed: the row says why
                takes_along[p.name] = []
    return page(request, "admin/modules.html", status_code=status_code, plugins=plugins,
                takes_along=takes_along, form=form, stage_names=STAGE_NAMES,
                enabled_now=_names(request, "enabled"), disabled_now=_names(request, "disabled"))


def module_details(kernel: Any, name: str) -> dict[str, Any]:
    """Everything a plugin contributes: version, dependencies both ways, hooks implemented
    (deprecated ones flagged), routes, permissions, jobs, tables — for the detail page (and
    the same facts as ``crm plugins info``)."""
    host = kernel.host
    rec = host.record(name)
    manifests = host.manifests()
    hooks: list[str] = []
    if rec.obj is not None and host.pm.is_registered(rec.obj):
        hooks = sorted(hc.name for hc in host.pm.get_hookcallers(rec.obj) or [])
    routes = [{"path": (f"/api/v1/{name}" if r.api else f"/{name}") + r.path, "methods": r.methods,
               "api": r.api, "permission": r.permission or "", "summary": r.summary}
              for r, p in kernel.routes if p == name]
    return {
        "manifest": rec.manifest, "source": rec.source,
        "all_dependencies": sorted(dependency_closure(manifests, [name]) - {name}) if rec.ok else [],
        "dependents": sorted(dependents_closure(manifests, [name])) if rec.ok else [],
        "hooks": hooks, "deprecated": host.deprecated_hooks(name),
        "routes": routes,
        "permissions": sorted((a for a, p in kernel.actions.values() if p == name), key=lambda a: a.name),
        "jobs": sorted((j for j, p in kernel.jobs.values() if p == name), key=lambda j: j.id),
        "tables": sorted(t for t, p in kernel.tables.items() if p == name),
    }


def detail(request: Request) -> Response:
    name = _known(request)
    ctx = ctx_for(request)
    info = {p.name: p for p in plugin_svc.list_plugins(ctx)}[name]
    return page(request, "admin/module.html", plugin=info, d=module_details(kernel_of(request), name),
                stage_names=STAGE_NAMES)


def _enable_page(request: Request, name: str, form: Form, status_code: int = 200) -> Response:
    ctx = ctx_for(request)
    infos = {p.name: p for p in plugin_svc.list_plugins(ctx)}
    plan: list[str] = []
    if not infos[name].enabled:
        try:
            plan = plugin_svc.plan_enable(ctx, [name])
        except PluginError as exc:  # failed to load, or a dependency did
            form.add(GENERAL, translate(exc.message))
            status_code = 409
    return page(request, "admin/module_enable.html", status_code=status_code, name=name,
                plugin=infos[name], plan=plan, infos=infos, form=form)


def enable_form(request: Request) -> Response:
    return _enable_page(request, _known(request), Form())


def enable(request: Request) -> Response:
    """Switching on migrates the module's tables and starts its jobs: like switching off, it
    asks for the password again (as the API's enablePlugin does)."""
    name = _known(request)
    form = Form.posted(request)
    if not kernel_of(request).host.record(name).ok:
        return _enable_page(request, name, form)
    if not reauthorize(request, form, PERMISSION):
        return _enable_page(request, name, form)
    try:
        done = plugin_svc.enable(ctx_for(request), [name])
    except PluginError as exc:  # its tables could not be migrated
        form.add(GENERAL, translate(exc.message))
        return _enable_page(request, name, form, status_code=409)
    return RedirectResponse(f"/admin/modules?enabled={','.join(done)}", 303)


def _disable_page(request: Request, name: str, form: Form, status_code: int = 200) -> Response:
    ctx = ctx_for(request)
    blocking: list[str] = []
    try:
        plan = plugin_svc.plan_disable(ctx, [name])
    except PluginDependencyError as exc:
        blocking = list(exc.extra.get("dependents") or [])
        plan = plugin_svc.plan_disable(ctx, [name], cascade=True)
    infos = {p.name: p for p in plugin_svc.list_plugins(ctx)}
    return page(request, "admin/module_disable.html", status_code=status_code, name=name,
                plugin=infos[name], plan=plan, blocking=blocking, infos=infos, form=form)


def disable_form(request: Request) -> Response:
    return _disable_page(request, _known(request), Form())


def disable(request: Request) -> Response:
    name = _known(request)
    form = Form.posted(request)
    if not reauthorize(request, form, PERMISSION):
        return _disable_page(request, name, form)
    try:
        done = plugin_svc.disable(ctx_for(request), [name], cascade=form.checked("cascade"))
    except PluginDependencyError:  # a dependent was switched on meanwhile: explain again
        form.error(GENERAL, N_("Other modules that depend on it are on. Confirm again to switch them "
                               "off as well."))
        return _disable_page(request, name, form)
    return RedirectResponse(f"/admin/modules?disabled={','.join(done)}", 303)


def routes() -> list[BaseRoute]:
    return [
        route("/admin/modules", modules, permission=PERMISSION, name="admin_modules"),
        route("/admin/modules/{name}", detail, permission=PERMISSION, name="admin_module"),
        route("/admin/modules/{name}/enable", enable_form, permission=PERMISSION,
              name="admin_module_enable_form"),
        route("/admin/modules/{name}/enable", enable, permission=PERMISSION, methods=("POST",),
              name="admin_module_enable"),
        route("/admin/modules/{name}/disable", disable_form, permission=PERMISSION,
              name="admin_module_disable_form"),
        route("/admin/modules/{name}/disable", disable, permission=PERMISSION, methods=("POST",),
              name="admin_module_disable"),
    ]
