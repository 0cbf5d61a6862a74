"""The customer-page panel and the dashboard widget."""

from __future__ import annotations

from typing import Any

from crm_core.declarations import Panel
from crm_core.services.customers import local_today
from crm_core.web import fragment
from crm_core.web.i18n import gettext
from crm_pipeline.services import approvals, config, forecast, queries


def customer_panel(kernel: Any, ctx: Any, customer: Any) -> Panel | None:
    """The customer's opportunities the viewer may read, and "new opportunity"."""
    if not ctx.actor.can("pipeline.read"):
        return None
    page = queries.list_opportunities(ctx, {"customer_id": customer.id, "limit": 20})
    stages = {st.id: st for p in config.list_pipelines(ctx) for st in p.stages}
    users = queries.user_names(ctx, {o.owner_id for o in page.items})
    html = fragment(kernel, "pipeline/panel.html", items=page.items, more=page.next_cursor,
                    locale=ctx.actor.locale,
                    stages=stages, users=users, customer=customer,
                    can_create=ctx.actor.can("pipeline.create"))
    return Panel("pipeline.opportunities", gettext("Opportunities"), html, order=20)


def dashboard_widget(kernel: Any, ctx: Any) -> Panel | None:
    if not ctx.actor.can("pipeline.read"):
        return None
    figures = forecast.dashboard_figures(ctx, local_today(ctx.actor.timezone))
    html = fragment(kernel, "pipeline/widget.html", figures=figures,
                    pending=approvals.pending_count(ctx))
    return Panel("pipeline.forecast", gettext("Sales this month"), html, order=20)
