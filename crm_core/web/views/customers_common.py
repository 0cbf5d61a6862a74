"""What the customer pages share: labels of coded values, translated validation messages, form
reading, and the per-record rights that decide which buttons a page shows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
from crm_core.web.auth import web_session
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
@dataclass(frozen=True)
class Msg:
    """A message for the page: a catalog ``msgid`` with ``args`` (translated and escaped in the
    template), or, when the service's text is not one we know, that ``text`` as it is."""

    text: str
    msgid: str | None = None
    args: dict[str, str] = field(default_factory=dict)


REQUIRED = N_("This field is required.")
# The services' and pydantic's English messages, matched whole. Anything else (a plugin's rule)
# is shown as it is.
_KNOWN: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.S), m) for p, m in (
    (r"String should have at least 1 characters?|Field required|cannot be empty|"
     r".+ is required|phone is empty", REQUIRED),
    (r"(String should have )?at most (?P<n>\d+) characters?", N_("At most %(n)s characters.")),
    (r"mobile number .* must have 11 digits starting with 13–19",
     N_("A mobile number has 11 digits and starts with 13–19.")),
    # the normaliser says "not digits" for too short numbers too: only blame characters if any
    (r"phone '[\d\s\-()（）.+]*' contains characters that are not digits",
     N_("This is not a valid phone number.")),
    (r"phone .* contains characters that are not digits",
     N_("A phone number may only contain digits, spaces, dashes, brackets and +86.")),
    (r"phone .* is not a valid number", N_("This is not a valid phone number.")),
    (r"email .* is not valid: .*", N_("This is not a valid email address.")),
    (r"ID number must be 17 digits followed by a digit or X",
     N_("An ID number has 17 digits followed by a digit or X.")),
    (r"ID number check digit is wrong", N_("The check digit of this ID number is wrong.")),
    (r"Input should be a valid date.*|must be a date YYYY-MM-DD",
     N_("Enter a date as YYYY-MM-DD.")),
    (r"Input should be a valid datetime.*", N_("Enter a date and time.")),
    (r"Input should be a valid integer.*|must be a whole number", N_("Enter a whole number.")),
    (r"must be a number", N_("Enter a number.")),
    (r"must be yes or no", N_("Choose yes or no.")),
    (r"unknown \w+ .*; one of .*", N_("Choose one of the listed values.")),
    (r"must be one of: (?P<options>.*)", N_("Choose one of: %(options)s.")),
    (r"(?P<bad>.*) not among: (?P<options>.*)", N_("Not among the options: %(bad)s.")),
    (r"must be at least (?P<n>.*)", N_("Must be at least %(n)s.")),
    (r"must be at most (?P<n>.*)", N_("Must be at most %(n)s.")),
    (r"does not match the required format .*", N_("This value does not have the required format.")),
    (r"unknown custom field", N_("This field no longer exists.")),
    (r"cannot be in the future", N_("Cannot be in the future.")),
    (r"not a contact of this customer", N_("Choose one of this customer's contacts.")),
    (r"not a cursor from a previous page",
     N_("This page link is out of date: start again from the first page.")),
    (r"'me' or a user id", N_("Choose an owner from the list.")),
    (r"at most \d+ saved filters per list; delete one first",
     N_("You have too many saved filters: delete one first.")),
)]


def message(text: str) -> Msg:
    for pattern, msgid in _KNOWN:
        found = pattern.fullmatch(text.strip())
        if found:
            args = {k: v for k, v in found.groupdict().items() if v is not None}
            return Msg(text, msgid, args)
    return Msg(text)


class FormErrors:
    """A service's ``ValidationError.errors`` placed on the inputs of a form. ``rename`` maps a
    service key to the form's input name (``contacts.0.phone`` → ``contact_phone``); errors of
    keys the form has no input for are listed at the top of the form, with their key."""

    def __init__(self, errors: Mapping[str, list[str]] | None = None,
                 inputs: Iterable[str] = (), rename: Mapping[str, str] | None = None) -> None:
        self.by_field: dict[str, list[Msg]] = {}
        self.general: list[tuple[str, Msg]] = []
        known = set(inputs)
        for key, messages in (errors or {}).items():
            name = (rename or {}).get(key, key)
            for t in messages:
                if name in known:
                    self.by_field.setdefault(name, []).append(message(t))
                else:
                    self.general.append((key, message(t)))

    def add(self, name: str, msgid: str, **args: str) -> None:
        self.by_field.setdefault(name, []).append(Msg(msgid, msgid, args))

    def get(self, name: str) -> list[Msg]:
        return self.by_field.get(name, [])

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)


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
