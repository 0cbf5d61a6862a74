"""What the admin pages share: typed values that survive a refused submit, service errors as
translated inline messages, re-authentication inside the form, the admin sub-menu and labels.

Service errors are English (the API shows them as they are); :func:`translate` turns the ones
the admin forms can cause into catalogue messages so the page speaks the admin's language, and
falls back to the service's own text for anything it does not know.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from crm_core.errors import ValidationError
from crm_core.services import auth as auth_svc
from crm_core.web import i18n
from crm_core.web.auth import client_ip, current_actor, form_data, kernel_of, require_reauth, web_state
from crm_core.web.errors import ReauthRequired
from crm_core.web.forms import known, place, rules
from crm_core.web.i18n import N_
from crm_core.web.templating import render

REAUTH_FIELD = "reauth_password"
GENERAL = "__all__"  # errors that belong to no single field
RAW = "%(text)s"  # a message the catalogue does not know: shown as the service wrote it


@dataclass(frozen=True)
class Msg:
    """A message id and its arguments, translated when the page is rendered."""

    text: str
    args: dict[str, Any] = field(default_factory=dict)


# where the admin pages word a shared message their own way (the value in the message)
_OWN = rules(
    (r"email '(?P<v>.*)' is not valid: .*", N_("%(v)s is not a valid email address.")),
    (r"not a cursor from a previous page", N_("This page link is out of date; start again.")),
)


def tr(msg: Msg) -> Markup:
    """A message in the page's language, its arguments escaped (messages nest)."""
    args = {k: tr(v) if isinstance(v, Msg) else v for k, v in msg.args.items()}
    return Markup(i18n.gettext(msg.text)) % args


def translate(message: str) -> Msg:
    """A service's English error message as a catalogue message (or as it is)."""
    found = known(message, _OWN)
    return Msg(*found) if found else Msg(RAW, {"text": message})


class Form:
    """What the admin typed (passwords excepted) and what was wrong with it, per field."""

    def __init__(self, values: dict[str, Any] | None = None, secret: tuple[str, ...] = ()) -> None:
        self.values: dict[str, Any] = dict(values or {})
        self.errors: dict[str, list[Msg]] = {}
        self.secret = secret  # fields on the form whose value is never sent back

    @classmethod
    def posted(cls, request: Request, *lists: str, secret: tuple[str, ...] = ()) -> Form:
        """The submitted form; ``lists`` are multi-valued fields (checkboxes), ``secret`` fields
        are never sent back to the browser."""
        data = form_data(request)
        values: dict[str, Any] = {}
        for key in data:
            if key in ("csrf_token", REAUTH_FIELD) or key in secret:
                continue
            values[key] = [str(v)[:500] for v in data.getlist(key)] if key in lists else \
                str(data.get(key) or "")[:20000]
        for key in lists:
            values.setdefault(key, [])
        return cls(values, secret)

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        return value if isinstance(value, str) else default

    def text(self, name: str) -> str:
        return self.get(name).strip()

    def getlist(self, name: str) -> list[str]:
        value = self.values.get(name)
        return list(value) if isinstance(value, list) else []

    def checked(self, name: str) -> bool:
        return self.get(name) in ("1", "on", "true")

    def error(self, name: str, message: str, **args: Any) -> None:
        self.add(name, Msg(message, args))

    def add(self, name: str, msg: Msg) -> None:
        self.errors.setdefault(name, []).append(msg)

    def take(self, exc: ValidationError, rename: dict[str, str] | None = None) -> None:
        """Put a service's validation errors beside the fields they name (``rename`` maps a
        service field to a form field); errors of fields this form does not have go on top,
        named."""
        inputs = {GENERAL, *self.values, *self.secret}
        for name, key, m in place(exc.errors or {GENERAL: [exc.message]}, inputs, rename):
            if name is not None:
                self.add(name, translate(m))
            else:
                self.add(GENERAL, Msg(N_("%(field)s: %(message)s"), {"field": key, "message": translate(m)}))

    def int_or_error(self, name: str, default: int | None = None) -> int | None:
        raw = self.text(name)
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError:
            self.error(name, N_("Enter a whole number."))
            return default

    @property
    def ok(self) -> bool:
        return not self.errors


# --- re-authentication inside the form ----------------------------------------------------
THROTTLED = N_("Too many failed attempts. Try again in %(minutes)s minutes.")


def reauthorize(request: Request, form: Form, action: str) -> bool:
    """Is this request re-authenticated for ``action``? The form carries the admin's password
    (checked here, throttled like sign-in), so a mistake keeps what they typed; a form sent
    without it may use up a confirmation made on ``/reauth`` for ``action``. ``False`` puts the
    reason on the form's password field."""
    password = form_data(request).get(REAUTH_FIELD)
    if not isinstance(password, str) or not password:
        try:
            require_reauth(request, action)
        except ReauthRequired:
            form.error(REAUTH_FIELD, N_("Enter your password to confirm this change."))
            return False
        return True
    actor = current_actor(request)
    assert actor is not None
    try:
        ok = auth_svc.verify_actor_password(kernel_of(request), actor, password[:1024], client_ip(request))
    except auth_svc.TooManyAttempts as exc:
        form.error(REAUTH_FIELD, THROTTLED, minutes=max(1, math.ceil(exc.retry_after / 60)))
        return False
    if not ok:
        form.error(REAUTH_FIELD, N_("Wrong password."))
    return ok


# --- the admin area -----------------------------------------------------------------------
SECTIONS: list[tuple[str, str, str]] = [  # path, title, permission
    ("/admin/modules", N_("Modules"), "plugins.manage"),
    ("/admin/users", N_("Users"), "users.manage"),
    ("/admin/teams", N_("Teams"), "teams.manage"),
    ("/admin/roles", N_("Roles"), "roles.manage"),
    ("/admin/fields", N_("Custom fields"), "custom_fields.manage"),
    ("/admin/audit", N_("Audit log"), "audit.read"),
]


def sections(request: Request) -> list[tuple[str, str, bool]]:
    """The admin pages this user may open: (path, title, is the current one)."""
    actor = current_actor(request)
    here = request.url.path
    return [(path, title, here == path or here.startswith(path + "/"))
            for path, title, perm in SECTIONS if actor is not None and actor.can(perm)]


def locale_of(request: Request) -> str:
    return web_state(request).locale_for(request)


def pick(locale: str, zh: str, en: str) -> str:
    """A label in the page's language (English falls back to Chinese when missing)."""
    return zh if locale == "zh_CN" else (en or zh)


def page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render an admin page with its sub-menu. A refused form answers 422 so scripts notice."""
    if status_code == 200 and any(isinstance(v, Form) and not v.ok for v in context.values()):
        status_code = 422
    return render(request, template, status_code=status_code, admin_sections=sections(request), tr=tr,
                  scope_names=SCOPE_NAMES, **context)


SCOPE_NAMES = {"own": N_("Own"), "team": N_("Team"), "all": N_("All")}


def action_label(request: Request, name: str, locale: str) -> str:
    found = kernel_of(request).actions.get(name)
    return pick(locale, found[0].label, found[0].label_en) if found else name


def plugin_label(request: Request, plugin: str, locale: str) -> str:
    """A module's display name; the kernel's own actions are "core" (translated by the page)."""
    rec = kernel_of(request).host.records.get(plugin)
    return rec.manifest.display_name(locale) if rec is not None and rec.manifest else plugin
