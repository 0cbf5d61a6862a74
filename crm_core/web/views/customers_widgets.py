"""The kernel's dashboard widgets: my customers, follow-ups due, recently changed customers.

They have the signature of the ``dashboard_widgets`` hook and are shown beside the plugins'
widgets, sorted together by ``order``. Call them while the page's language is active
(:func:`crm_core.web.i18n.use_locale`): titles and fragments are rendered in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_core.declarations import Panel
from crm_core.services.customers import count_customers, list_customers, local_today
from crm_core.web.i18n import N_, gettext
from crm_core.web.templating import fragment
from crm_core.web.views.customers_common import LABELS
from crm_core.web.views.customers_data import due_followups

if TYPE_CHECKING:
    from crm_core.context import Ctx
    from crm_core.kernel import Kernel

MINE, DUE, RECENT = N_("My customers"), N_("Follow-ups due"), N_("Recently changed customers")


def dashboard_widgets(kernel: Kernel, ctx: Ctx) -> list[Panel]:
    actor = ctx.actor
    if not actor.can("customers.read"):
        return []
    out: list[Panel] = []
    if actor.id is not None:
        n, exact = count_customers(ctx, {"owner": "me"})
        latest = list_customers(ctx, {"owner": "me", "sort": "-id", "limit": 5}).items
        out.append(Panel("customers-mine", gettext(MINE), fragment(
            kernel, "customers/widget_mine.html", n=n, exact=exact, latest=latest, labels=LABELS,
            can_create=actor.can("customers.create")), order=10))
        if actor.can("followups.read"):
            due, total = due_followups(ctx, local_today(actor.timezone))
            out.append(Panel("customers-due", gettext(DUE), fragment(
                kernel, "customers/widget_due.html", due=due, total=total, labels=LABELS),
                order=20))
    recent = list_customers(ctx, {"sort": "-updated_at", "limit": 6}).items
    out.append(Panel("customers-recent", gettext(RECENT), fragment(
        kernel, "customers/widget_recent.html", recent=recent, labels=LABELS), order=30))
    return out
