"""What the leads pages share: labels, form reading, user/team choices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from starlette.datastructures import FormData

from crm_core.context import Ctx
from crm_core.models import Team, User
from crm_core.web.i18n import N_
from crm_core.web.views.customers_common import LABELS, FormErrors, Msg, text, texts

STATUS_LABELS = {"new": N_("New (not contacted)"), "contacted": N_("Contacted"), "qualified": N_("Qualified"),
                 "disqualified": N_("Disqualified"), "converted": N_("Converted")}
ACTION_LABELS = {"user": N_("A named user"), "round_robin": N_("Round-robin within a team"),
                 "least_open": N_("Team member with the fewest open leads")}
LEAD_INPUTS = ("name", "company", "phone", "email", "source", "region", "industry",
               "estimated_value", "remark", "status", "disqualified_reason")


class Labels:
    status = STATUS_LABELS
    action = ACTION_LABELS
    source = LABELS.source
    region = LABELS.region
    industries = LABELS.industries
    industry = staticmethod(LABELS.industry)


L = Labels()


def lead_form(form: FormData, fields: list[Any], editing: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for k in LEAD_INPUTS:
        v = text(form, k, 2000)
        if editing or v:
            data[k] = v or None
    if not editing:
        data.pop("status", None)
        data.pop("disqualified_reason", None)
    custom: dict[str, Any] = {}
    for d in fields:
        got: Any = (texts(form, "cf_" + d.key) if d.type == "multi_choice"
                    else text(form, "cf_" + d.key))
        custom[d.key] = got if got not in ("", []) else None
    if custom:
        data["custom"] = custom
    return data


# The leads services' own messages (the kernel's are translated by FormErrors already).
MESSAGES = {
    "give a phone or an email": N_("Give a phone number or an email address."),
    "choose an active user": N_("Choose an active user."),
    "choose a team": N_("Choose a team."),
    "a converted lead can't be changed": N_("A converted lead can't be changed."),
    "this lead is already converted": N_("This lead is already converted."),
    "a disqualified lead can't be converted": N_("A disqualified lead can't be converted."),
}


def form_errors(errors: Mapping[str, list[str]] | None, inputs: Iterable[str] = (),
                rename: Mapping[str, str] | None = None) -> FormErrors:
    """:class:`FormErrors` that also translates this plugin's messages."""
    fe = FormErrors(errors, inputs, rename)

    def tr(m: Msg) -> Msg:
        msgid = MESSAGES.get(m.text) if m.msgid is None else None
        return Msg(m.text, msgid) if msgid else m

    fe.by_field = {k: [tr(m) for m in ms] for k, ms in fe.by_field.items()}
    fe.general = [(k, tr(m)) for k, m in fe.general]
    return fe


def errors_for(exc: Any, fields: list[Any]) -> FormErrors:
    inputs = [*LEAD_INPUTS, *("cf_" + d.key for d in fields)]
    rename = {f"custom.{d.key}": "cf_" + d.key for d in fields}
    return form_errors(getattr(exc, "errors", {}), inputs, rename)


def people(ctx: Ctx) -> list[tuple[int, str]]:
    with ctx.reader() as s:
        return [(u.id, u.display_name or u.login) for u in s.scalars(
            select(User).where(col(User.is_active)).order_by(col(User.display_name)))
            if u.id is not None]


def teams(ctx: Ctx) -> list[tuple[int, str]]:
    with ctx.reader() as s:
        return [(t.id, t.name) for t in s.scalars(select(Team).order_by(col(Team.name)))
                if t.id is not None]
