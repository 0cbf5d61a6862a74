"""The pipeline plugin's public service API — what pages, the API, the CLI, demo data and other
plugins (the ``leads_pipeline`` glue plugin) call. Each function validates, authorises and writes
in one transaction (joining the caller's ``ctx.uow()``), with an audit entry and domain event."""

from __future__ import annotations

from crm_pipeline.services.common import ENTITY, ApprovalRequired
from crm_pipeline.services.moves import (
    lose_opportunity,
    move_stage,
    set_milestone,
    win_opportunity,
)
from crm_pipeline.services.opportunities import (
    create_opportunity,
    delete_opportunity,
    get_opportunity,
    stage_history,
    update_opportunity,
)

__all__ = [
    "ENTITY",
    "ApprovalRequired",
    "create_opportunity",
    "delete_opportunity",
    "get_opportunity",
    "lose_opportunity",
    "move_stage",
    "set_milestone",
    "stage_history",
    "update_opportunity",
    "win_opportunity",
]
