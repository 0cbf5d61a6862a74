"""The leads use cases. Pages, the API, the web form and the CSV upload all call these."""

from __future__ import annotations

from crm_leads.services.assign import assign_lead, assign_many, reassign
from crm_leads.services.leads import (
    create_lead,
    delete_lead,
    get_lead,
    list_leads,
    mark_contacted,
    update_lead,
)

__all__ = [
    "assign_lead",
    "assign_many",
    "create_lead",
    "delete_lead",
    "get_lead",
    "list_leads",
    "mark_contacted",
    "reassign",
    "update_lead",
]
