"""What the pipeline pages share: translated validation messages placed on form inputs, labels,
per-record rights, small form readers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlmodel import col
from starlette.datastructures import FormData

from crm_core.context import Ctx
from crm_core.permissions.scope import scope_clause
from crm_core.web import forms
from crm_core.web.forms import rules
from crm_core.web.i18n import N_
from crm_pipeline.models import Opportunity
from crm_pipeline.services.common import ENTITY

STATUS_LABELS = {"open": N_("Open"), "won": N_("Won deal"), "lost": N_("Lost deal")}
APPROVAL_LABELS = {"none": N_("Not requested"), "pending": N_("Awaiting approval"),
                   "approved": N_("Approved"), "rejected": N_("Rejected"),
                   "cancelled": N_("Cancelled")}
MILESTONE_LABELS = {"lead": N_("Lead captured"), "needs_confirmed": N_("Needs confirmed"),
                    "quote": N_("Quote sent"), "contract": N_("Contract signed"),
                    "payment_received": N_("Payment received")}

# the pipeline services' English messages → catalogue messages (tried before the kernel's)
RULES = rules(
    (r"say why the opportunity was lost", N_("Say why the opportunity was lost.")),
    (r"say why the request is rejected", N_("Say why you reject the request.")),
    (r"not a number", N_("Enter an amount such as 12000.50.")),
    (r"must not be negative", N_("The amount cannot be negative.")),
    (r"at most 2 decimal places", N_("At most 2 decimal places.")),
    (r"too large", N_("This amount is too large.")),
    (r"a 3-letter currency code such as CNY", N_("A 3-letter currency code such as CNY.")),
    (r"between 0 and 100", N_("A percentage between 0 and 100.")),
    (r"no stage '(?P<v>.+)' in this pipeline", N_("There is no stage %(v)s in this pipeline.")),
    (r"a new opportunity starts in an open stage.*",
     N_("A new opportunity starts in an open stage; win or lose it afterwards.")),
    (r"no active user with this id", N_("Choose an active user.")),
    (r"the owner is not in your team", N_("You can only choose a member of your teams.")),
    (r"you may only give opportunities to yourself", N_("You can only choose yourself.")),
    (r"Input should be a valid decimal|Decimal input should be.*",
     N_("Enter an amount such as 12000.50.")),
    (r"this opportunity's amount does not need an approval",
     N_("This amount does not need an approval.")),
    (r"only an open opportunity needs an approval", N_("Only an open opportunity needs an approval.")),
    (r"a pipeline '(?P<v>.+)' exists already|this pipeline has a stage '(?P<w>.+)'",
     N_("This key is taken.")),
    (r"String should match pattern .*",
     N_("Lowercase letters, digits and “_”, starting with a letter.")),
    (r"a pipeline has one (won|lost) stage; edit the existing one",
     N_("A pipeline has one won and one lost stage.")),
    (r"the won and lost stages cannot be switched off",
     N_("The won and lost stages cannot be switched off.")),
    (r"(?P<n>\d+) open opportunities are in this stage; move them first",
     N_("%(n)s open opportunities are in this stage: move them first.")),
    (r"changed by someone else", N_("Someone else changed this meanwhile: reload the page.")),
    (r"make another pipeline the default instead",
     N_("Make another pipeline the default instead.")),
)


class FormErrors(forms.FormErrors):
    """The kernel's form-error placement, with the pipeline's own wording tried first."""

    own = RULES


def text(form: FormData | Mapping[str, Any], name: str, limit: int = 5000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


def safe_next(value: str, default: str) -> str:
    """A same-site path to go back to after a form (never another site)."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def rights(ctx: Ctx, opportunity_id: int,
           actions: Iterable[str] = ("pipeline.update", "pipeline.delete", "pipeline.approve")
           ) -> set[str]:
    """Which of ``actions`` the actor may do on this opportunity (scope applied in SQL)."""
    out: set[str] = set()
    with ctx.reader() as s:
        for action in actions:
            if not ctx.actor.can(action):
                continue
            found = s.scalar(select(col(Opportunity.id)).where(
                col(Opportunity.id) == opportunity_id,
                scope_clause(ctx.kernel, ctx.actor, ENTITY, action)))
            if found is not None:
                out.add(action)
    return out


def query_string(params: Mapping[str, Any], **change: Any) -> str:
    merged = {k: v for k, v in {**params, **change}.items() if v not in (None, "")}
    return urlencode(merged)
