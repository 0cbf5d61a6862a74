"""``/admin/audit``: the audit log, filtered and paged by keyset, each change shown as before and
after per field."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from crm_core.context import INTERFACES
from crm_core.errors import ValidationError
from crm_core.models import AuditEntry
from crm_core.services.audit import list_audit
from crm_core.web.auth import ctx_for, kernel_of
from crm_core.web.i18n import N_
from crm_core.web.routing import route
from crm_core.web.views.admin_forms import GENERAL, Form, page

PERMISSION = "audit.read"
FILTERS = ("actor", "entity", "entity_id", "action", "interface", "date_from", "date_to")
ADMIN_ENTITIES = ("user", "team", "role", "plugin", "custom_field")
INTERFACE_NAMES = {"web": N_("Web"), "api": N_("API"), "cli": N_("Command line"), "import": N_("Import"),
                   "system": N_("System"), "plugin": N_("Module")}
PAGE_SIZE = 50


def _show(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _member(field: str, values: dict[str, Any], key: str) -> str | None:
    """One key of a dict that changed: ``None`` when absent; a grant without scope is "✓"."""
    if key not in values:
        return None
    if values[key] is None:
        return "✓" if field == "grants" else "null"
    return _show(values[key])


def changes(entry: AuditEntry) -> list[tuple[str, str | None, str | None, bool]]:
    """(field, before, after, has a before) per changed field; a dict that changed (a role's
    grants…) is shown key by key."""
    out: list[tuple[str, str | None, str | None, bool]] = []
    for name, value in sorted((entry.changes or {}).items()):
        if not (isinstance(value, list) and len(value) == 2):
            out.append((name, None, _show(value), False))  # a plain value (created with it)
            continue
        before, after = value
        if isinstance(before, dict | None) and isinstance(after, dict | None) and (before or after):
            old, new = before or {}, after or {}
            for key in sorted(set(old) | set(new)):
                if key not in old or key not in new or old[key] != new[key]:
                    out.append((f"{name}.{key}", _member(name, old, key), _member(name, new, key), True))
            continue
        out.append((name, _show(before), _show(after), True))
    return out


def audit(request: Request) -> Response:
    params = request.query_params
    form = Form({k: params.get(k, "")[:120] for k in FILTERS})
    query = {k: v.strip() for k, v in form.values.items() if v.strip()}
    cursor = params.get("cursor") or None
    if query.get("interface") and query["interface"] not in INTERFACES:
        form.error("interface", N_("Choose one of: %(v)s."), v=", ".join(INTERFACES))
    entries: list[AuditEntry] = []
    next_url = None
    if form.ok:
        try:
            result = list_audit(ctx_for(request), {**query, "cursor": cursor, "limit": PAGE_SIZE})
        except ValidationError as exc:  # each bad filter named beside its field
            form.take(exc, {"cursor": GENERAL, "limit": GENERAL})
        else:
            entries = result.items
            if result.next_cursor:
                next_url = "/admin/audit?" + urlencode({**query, "cursor": result.next_cursor})
    kernel = kernel_of(request)
    return page(request, "admin/audit.html", form=form, entries=[(e, changes(e)) for e in entries],
                next_url=next_url, first_url=("/admin/audit?" + urlencode(query)) if cursor else None,
                interface_options=[(i, INTERFACE_NAMES.get(i, i)) for i in INTERFACES],
                interface_names=INTERFACE_NAMES,
                entity_names=sorted({*kernel.entities, *ADMIN_ENTITIES}))


def routes() -> list[BaseRoute]:
    return [route("/admin/audit", audit, permission=PERMISSION, name="admin_audit")]
