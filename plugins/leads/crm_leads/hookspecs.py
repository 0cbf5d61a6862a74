"""Hooks the leads plugin offers to the plugins that depend on it (glue plugins).

Implement them in a plugin whose manifest ``depends`` on ``leads``; they are called only while
that plugin is enabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from crm_core.context import Ctx
    from crm_core.kernel import Kernel

hookspec = pluggy.HookspecMarker("crm")


@dataclass(frozen=True)
class ConversionField:
    """An extra input on the conversion form and in the conversion API's ``options``.

    ``key`` is namespaced by the contributing plugin (``pipeline_opportunity_name``); ``kind``
    is ``"text"``, ``"decimal"`` or ``"checkbox"``; ``default`` is pre-filled on the form."""

    key: str
    label: str
    label_en: str
    kind: str = "text"
    default: str = ""
    help: str = ""
    help_en: str = ""


@hookspec
def lead_conversion_fields(kernel: Kernel, ctx: Ctx, lead: Any) -> list[ConversionField]:
    """Extra inputs offered when converting ``lead`` (all results, flattened).

    :param kernel: the running kernel.
    :param ctx: who converts.
    :param lead: the lead (``crm_leads.schemas.LeadRead``).
    :return: fields; their values reach :func:`on_lead_converting` in ``options``.
    Added in leads 0.1.
    """
    return []


@hookspec
def on_lead_converting(kernel: Kernel, ctx: Ctx, lead: Any, customer_id: int,
                       options: dict[str, Any]) -> dict[str, Any] | None:
    """The lead is being converted into customer ``customer_id``, INSIDE the conversion
    transaction (``ctx.uow()`` joins it): create related records here. Raising rolls the whole
    conversion back (no customer, the lead unchanged); a ``crm_core.errors.ValidationError``
    is shown to the user like any other input error.

    :param kernel: the running kernel.
    :param ctx: who converts (services called with it join the transaction).
    :param lead: the lead as it was before the conversion (``LeadRead``).
    :param customer_id: the new or linked customer.
    :param options: every option the user sent (keys from :func:`lead_conversion_fields`).
    :return: a dict merged into the conversion result (``{"opportunity_id": 7}``) or ``None``.
    Added in leads 0.1.
    """
    return None
