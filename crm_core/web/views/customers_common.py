"""What the customer pages share: labels of coded values, translated validation messages, form
reading, and the per-record rights that decide which buttons a page shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlmodel import col
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.models import Customer
from crm_core.permissions.scope import scope_clause
from crm_core.schemas import INDUSTRIES, REGIONS, SOURCES
from crm_core.web import forms
from crm_core.web.auth import web_session
from crm_core.web.forms import Msg, rules
from crm_core.web.i18n import N_

STATUS_LABELS = {"potential": N_("Potential"), "won": N_("Won"), "churned": N_("Churned")}
TYPE_LABELS = {"enterprise": N_("Enterprise"), "individual": N_("Individual")}
SOURCE_LABELS = {
    "trade_show": N_("Trade show"), "website": N_("Website"), "referral": N_("Referral"),
    "cold_call": N_("Cold call"), "advertising": N_("Advertising"), "partner": N_("Partner"),
    "import": N_("Import"), "other": N_("Other"),
}
YES, NO = N_("Yes"), N_("No")
METHOD_LABELS = {"phone": N_("Phone call"), "visit": N_("Visit"), "email": N_("Email"),
                 "wechat": N_("WeChat"), "other": N_("Other")}
REGION_LABELS = {
    "华东": N_("East China"), "华南": N_("South China"), "华北": N_("North China"),
    "华中": N_("Central China"), "西南": N_("Southwest China"), "西北": N_("Northwest China"),
    "东北": N_("Northeast China"), "港澳台": N_("Hong Kong, Macao and Taiwan"),
    "海外": N_("Overseas"),
}
assert set(SOURCE_LABELS) == set(SOURCES) and set(REGION_LABELS) == set(REGIONS)


class Labels:
    """Coded values → message ids (translated in the template with ``_()``), industries by
    language. Unknown codes (a plugin's, an old import's) are shown as they are."""

    status = STATUS_LABELS
    type = TYPE_LABELS
    source = SOURCE_LABELS
    method = METHOD_LABELS
    region = REGION_LABELS
    industries = INDUSTRIES

    @staticmethod
    def industry(code: str | None, locale: str) -> str:
        if not code:
            return ""
        names = INDUSTRIES.get(code)
        if names is None:
            return code
        return f"{code} {names[0] if locale == 'zh_CN' else names[1]}"


LABELS = Labels()


# --- validation messages ------------------------------------------------------------------
# where the customer pages word a shared message their own way (the message sits by its field)
_OWN = rules(
    (r"email .* is not valid: .*", N_("This is not a valid email address.")),
    (r"not a cursor from a previous page",
     N_("This page link is out of date: start again from the first page.")),
)


def message(text: str) -> Msg:
    """A service's English message for the page: its catalogue message when one is known."""
    return forms.message(text, _OWN)


class FormErrors(forms.FormErrors):
    """A service's ``ValidationError.errors`` on a customer page's form (see
    :class:`crm_core.web.forms.FormErrors`)."""

    own = _OWN


# --- forms --------------------------------------------------------------------------------
def text(form: FormData | Mapping[str, Any], name: str, limit: int = 5000) -> str:
    """A submitted text field, stripped (``""`` when absent or a file)."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def texts(form: FormData, name: str, limit: int = 200) -> list[str]:
    return [v.strip()[:limit] for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def ints(values: Iterable[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit() and len(v) < 12]


# --- rights on one record -----------------------------------------------------------------
CUSTOMER_RIGHTS = ("customers.update", "customers.delete", "customers.assign", "contacts.create",
                   "contacts.update", "contacts.delete", "followups.create")


def customer_rights(ctx: Ctx, customer_id: int, actions: Iterable[str] = CUSTOMER_RIGHTS) -> set[str]:
    """Which of ``actions`` the actor may do on this customer (and on its contacts and
    follow-ups, which are in scope through it) — one query, the scope applied in SQL."""
    actions = [a for a in actions if ctx.actor.can(a)]
    if not actions:
        return set()
    checks = [scope_clause(ctx.kernel, ctx.actor, "customer", a) for a in actions]
    with ctx.reader() as s:
        row = s.execute(select(*checks).select_from(Customer)
                        .where(col(Customer.id) == customer_id)).first()
    if row is None:
        return set()
    return {a for a, ok in zip(actions, row, strict=True) if ok}


# --- re-authentication --------------------------------------------------------------------
def reauth_ready(request: Request, action: str) -> bool:
    """Whether this browser session has a fresh, unused re-authentication for ``action`` — so a
    confirmation page can ask for the password *before* the user confirms, not after."""
    session = web_session(request)
    if session is None or session.reauth_action != action or session.reauth_until is None:
        return False
    until = session.reauth_until
    return (until if until.tzinfo else until.replace(tzinfo=UTC)) > utcnow()


def reauth_redirect(action: str, next_url: str) -> RedirectResponse:
    query = urlencode({"action": action, "next": next_url})
    return RedirectResponse(f"/reauth?{query}", 303)


def request_url(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")
