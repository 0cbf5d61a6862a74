"""Jinja2 pages: autoescaped, looked up instance folder → plugins → core, in the user's language.

Template names:

* ``base.html``, ``home.html``… — the instance folder (``<instance_dir>/templates``) first, then
  the core's. An instance template extends the original with ``{% extends "core:base.html" %}``.
* ``<plugin>/….html`` — the plugin's ``<package>/templates/<plugin>/…`` (a plugin can only add
  templates under its own name; the instance folder may still override them, and extend the
  original as ``"<plugin>:<plugin>/….html"``).

Every page gets ``request``, ``actor``, ``locale``, ``languages``, ``nav``, ``csrf_token()``,
``csrf_field()``, ``static_url()``, ``_()``/``gettext``/``ngettext`` and the filters
``datetime``, ``date``, ``number``, ``money``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from crm_core import __version__
from crm_core.asyncutil import resolve
from crm_core.declarations import Panel
from crm_core.plugin_system.host import call_impl
from crm_core.web import i18n
from crm_core.web.auth import apply_cookies, csrf_token, ctx_for, current_actor, kernel_of, web_state

log = logging.getLogger("crm.web")
CORE_TEMPLATES = Path(__file__).with_name("templates")


class NamespacedLoader(jinja2.BaseLoader):
    """A plugin's templates: only names under ``<plugin>/``, from its ``templates`` folder."""

    def __init__(self, plugin: str, directory: Path) -> None:
        self.plugin = plugin
        self.fs = jinja2.FileSystemLoader(directory)

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        if not template.startswith(self.plugin + "/"):
            raise jinja2.TemplateNotFound(template)
        return self.fs.get_source(environment, template)

    def list_templates(self) -> list[str]:
        return [t for t in self.fs.list_templates() if t.startswith(self.plugin + "/")]


def static_url(path: str, plugin: str | None = None) -> str:
    """``/static/crm.css?v=…`` (core) or ``/static/<plugin>/<path>`` (a plugin's ``static/``)."""
    prefix = f"/static/{plugin}/" if plugin else "/static/"
    return f"{prefix}{path.lstrip('/')}?v={__version__}"


def _per_render(func: Any) -> Any:
    """A filter that depends on the language of the render, so Jinja must not fold it into a
    constant at compile time (``{{ 100|money }}``)."""

    @jinja2.pass_context
    def filter_(_context: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        return func(value, *args, **kwargs)

    return filter_


def make_environment(instance_dir: Path, plugin_dirs: dict[str, Path]) -> jinja2.Environment:
    core = jinja2.FileSystemLoader(CORE_TEMPLATES)
    plugins = {name: NamespacedLoader(name, d) for name, d in plugin_dirs.items()}
    loader = jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(instance_dir),
        *plugins.values(),
        jinja2.PrefixLoader({"core": core, **plugins}, delimiter=":"),
        core,
    ])
    env = jinja2.Environment(loader=loader, autoescape=True, extensions=["jinja2.ext.i18n"],
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.Undefined)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update({name: _per_render(f) for name, f in (
        ("datetime", i18n.format_datetime), ("date", i18n.format_date),
        ("number", i18n.format_decimal), ("money", i18n.format_currency))})
    env.globals.update(static_url=static_url, version=__version__, languages=i18n.LANGUAGE_NAMES)
    env.globals["unread_notifications"] = _unread_notifications
    return env


def _unread_notifications(request: Request) -> int:
    """The header badge: the signed-in user's unread notification count."""
    from crm_core.web.views.notifications import unread_badge

    return unread_badge(request)


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    path: str
    icon: str
    active: bool


def nav_items(request: Request, locale: str) -> list[NavItem]:
    """The menu of this user: items of enabled plugins whose permission they hold."""
    actor = current_actor(request)
    if actor is None:
        return []
    kernel = kernel_of(request)
    here = request.url.path
    items = sorted(
        (m for m, plugin in kernel.menu
         if kernel.host.is_enabled(plugin) and (m.permission is None or actor.can(m.permission))),
        key=lambda m: (m.order, m.key),
    )
    return [NavItem(m.key, m.label if locale == "zh_CN" else (m.label_en or m.label), m.path, m.icon,
                    here == m.path or (m.path != "/" and here.startswith(m.path.rstrip("/") + "/")))
            for m in items]


def render(request: Request, template: str, *, status_code: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Render a page in the user's language (synchronous: call it from a sync endpoint, or
    through ``run_in_threadpool``, as the menu may read the enabled plugins)."""
    web = web_state(request)
    scope = web.scope_for(request)
    values: dict[str, Any] = {
        "request": request,
        "actor": current_actor(request),
        "locale": scope.locale,
        "nav": nav_items(request, scope.locale),
        "current_path": request.url.path,
        "csrf_token": lambda: csrf_token(request),
        "csrf_field": lambda: Markup('<input type="hidden" name="csrf_token" value="{}">').format(
            csrf_token(request)),
    }
    values.update(context)
    with i18n.use_locale(scope):
        html = web.env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    apply_cookies(request, response)
    return response


def fragment(kernel: Any, template: str, **context: Any) -> Markup:
    """Render a template to safe HTML in the current page's language — for plugins building
    :class:`~crm_core.declarations.Panel` html in a slot hook."""
    from crm_core.web.state import state_for

    return Markup(state_for(kernel).env.get_template(template).render(context))


def slot(request: Request, name: str, **kwargs: Any) -> list[Panel]:
    """Call a UI slot hook (``customer_panels``, ``dashboard_widgets``…) on every enabled plugin
    with ``kernel``, ``ctx`` and ``kwargs``; the panels sorted by ``order``. A plugin that fails
    is logged and left out (strict mode raises)."""
    kernel = kernel_of(request)
    ctx = ctx_for(request)
    panels: list[Panel] = []
    with i18n.use_locale(web_state(request).scope_for(request)):
        for impl in kernel.host.impls(name):
            try:
                result = resolve(call_impl(impl, kernel=kernel, ctx=ctx, **kwargs))
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, name)
                if kernel.host.strict:
                    raise
                continue
            panels.extend(result or [])
    return sorted(panels, key=lambda p: p.order)
