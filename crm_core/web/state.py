"""What the web layer keeps per kernel: session key, catalogs, template environment, the
plugins' static and template folders."""

from __future__ import annotations

import sys
import types
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from crm_core.plugin_system.host import CORE
from crm_core.web.i18n import Catalogs, LocaleScope, negotiate

if TYPE_CHECKING:
    from starlette.requests import Request

    from crm_core.kernel import Kernel

_states: weakref.WeakKeyDictionary[Any, WebState] = weakref.WeakKeyDictionary()


def plugin_package_dir(hooks_obj: Any) -> Path | None:
    """The folder of the module holding a plugin's hooks (its ``templates/``, ``static/`` and
    ``translations/`` live there)."""
    if hooks_obj is None:
        return None
    if isinstance(hooks_obj, types.ModuleType):
        module: Any = hooks_obj
    else:
        name = hooks_obj.__module__ if isinstance(hooks_obj, type) else type(hooks_obj).__module__
        module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    return Path(file).resolve().parent if file else None


@dataclass
class WebState:
    kernel: Kernel
    session_key: bytes
    catalogs: Catalogs
    env: jinja2.Environment
    static_dirs: dict[str, Path] = field(default_factory=dict)  # plugin → its static folder
    template_dirs: dict[str, Path] = field(default_factory=dict)

    def locale_for(self, request: Request) -> str:
        """The UI language: the user's, else the ``crm_locale`` cookie, else Accept-Language,
        else the deployment default."""
        from crm_core.web.auth import LOCALE_COOKIE

        actor = getattr(request.state, "crm_actor", None)
        if actor is not None and actor.id is not None and actor.locale in ("zh_CN", "en"):
            return str(actor.locale)
        cookie = request.cookies.get(LOCALE_COOKIE)
        if cookie in ("zh_CN", "en"):
            return str(cookie)
        return negotiate(request.headers.get("accept-language")) or self.kernel.settings.default_locale

    def scope_for(self, request: Request) -> LocaleScope:
        actor = getattr(request.state, "crm_actor", None)
        locale = self.locale_for(request)
        tz = actor.timezone if actor is not None else self.kernel.settings.default_timezone
        return LocaleScope(locale, tz, self.catalogs.get(locale), self.kernel.settings.default_currency)


def build_state(kernel: Kernel) -> WebState:
    from crm_core.web.templating import make_environment

    static_dirs: dict[str, Path] = {}
    template_dirs: dict[str, Path] = {}
    translation_dirs: list[tuple[str, Path]] = []
    for name in kernel.host.order:
        if name == CORE:
            continue
        base = plugin_package_dir(kernel.host.records[name].obj)
        if base is None:
            continue
        if (base / "static").is_dir():
            static_dirs[name] = base / "static"
        if (base / "templates").is_dir():
            template_dirs[name] = base / "templates"
        if (base / "translations").is_dir():
            translation_dirs.append((name, base / "translations"))
    state = WebState(
        kernel=kernel,
        session_key=kernel.settings.load_secrets().session_key.encode(),
        catalogs=Catalogs(translation_dirs),
        env=make_environment(Path(kernel.settings.instance_dir) / "templates", template_dirs),
        static_dirs=static_dirs,
        template_dirs=template_dirs,
    )
    _states[kernel] = state
    return state


def state_for(kernel: Kernel) -> WebState:
    """The web state of a kernel served by an app (for rendering fragments in slot hooks)."""
    try:
        return _states[kernel]
    except KeyError:
        raise RuntimeError("this kernel is not served by a web app (crm_core.web.create_app)") from None
