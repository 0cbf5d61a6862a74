"""Custom field definitions, modules (plugins) and the audit log."""

from __future__ import annotations

from typing import Any

from crm_core.errors import Conflict, NotFound, PluginDependencyError, PluginError, ValidationError
from crm_core.models import AuditEntry, CustomFieldDefinition
from crm_core.services import audit as audit_svc
from crm_core.services import custom_fields as fields_svc
from crm_core.services import plugins as plugins_svc
from crm_core.services.plugins import PluginInfo
from crm_core.web.api.models import (
    AuditEntryRead,
    AuditListQuery,
    AuditPage,
    DisablePlanQuery,
    FieldCreate,
    FieldList,
    FieldListQuery,
    FieldRead,
    FieldUpdate,
    IdPath,
    PluginChange,
    PluginDisable,
    PluginList,
    PluginPath,
    PluginRead,
)
from crm_core.web.api.operations import API, REAUTH_HELP, Call, Op, readable
from crm_core.web.routing import AUTHENTICATED


# --- custom fields ---------------------------------------------------------------------------
def field_read(row: CustomFieldDefinition) -> FieldRead:
    return FieldRead.model_validate(row, from_attributes=True)


def list_fields(c: Call) -> FieldList:
    q = c.query
    entities = [q.entity] if q.entity else sorted(
        name for name, (decl, plugin) in c.ctx.kernel.entities.items()
        if decl.custom_fields and c.ctx.kernel.is_active(plugin))
    rows: list[CustomFieldDefinition] = []
    for entity in entities:
        rows.extend(fields_svc.list_fields(c.ctx, entity, active_only=not q.include_inactive))
    return FieldList(items=[field_read(r) for r in rows])


def create_field(c: Call) -> FieldRead:
    return field_read(fields_svc.create_field(c.ctx, c.body))


def get_field(c: Call) -> FieldRead:
    return field_read(fields_svc.get_field(c.ctx, c.path.id))


def update_field(c: Call) -> FieldRead:
    return field_read(fields_svc.update_field(c.ctx, c.path.id, c.body, version=c.version))


# --- plugins ---------------------------------------------------------------------------------
def plugin_read(p: PluginInfo) -> PluginRead:
    return PluginRead(name=p.name, version=p.version, label=p.label, summary=p.summary,
                      category=p.category, stages=list(p.stages), depends=list(p.depends),
                      dependents=list(p.dependents), enabled=p.enabled, status=p.status,
                      error=p.error)


def _installed(c: Call) -> dict[str, PluginInfo]:
    found = {p.name: p for p in plugins_svc.list_plugins(c.ctx)}
    if c.path.name not in found:
        raise NotFound(f"no plugin named {c.path.name!r} is installed")
    return found


def _plugin_errors(run: Any) -> Any:
    """Plugin host errors are the caller's to fix (a plugin that failed to load, a dependency
    that did): 409, never 500."""
    try:
        return run()
    except PluginDependencyError:
        raise
    except PluginError as exc:
        raise Conflict(str(exc)) from None


def list_plugins(c: Call) -> PluginList:
    return PluginList(items=[plugin_read(p) for p in plugins_svc.list_plugins(c.ctx)])


def enable_plugin(c: Call) -> PluginChange:
    _installed(c)
    return PluginChange(plugins=_plugin_errors(lambda: plugins_svc.enable(c.ctx, [c.path.name])))


def disable_plan(c: Call) -> PluginChange:
    _installed(c)
    return PluginChange(plugins=_plugin_errors(
        lambda: plugins_svc.plan_disable(c.ctx, [c.path.name], cascade=c.query.cascade)))


def disable_plugin(c: Call) -> PluginChange:
    _installed(c)
    cascade = c.body.cascade if c.body is not None else False
    return PluginChange(plugins=_plugin_errors(
        lambda: plugins_svc.disable(c.ctx, [c.path.name], cascade=cascade)))


# --- audit -----------------------------------------------------------------------------------
def audit_read(row: AuditEntry) -> AuditEntryRead:
    return AuditEntryRead.model_validate(row, from_attributes=True)


def list_audit(c: Call) -> AuditPage:
    q = c.query.model_dump(exclude_none=True)
    if q.get("date_from") and q.get("date_to") and q["date_from"] > q["date_to"]:
        raise ValidationError("invalid query", {"date_to": ["before date_from"]})
    page = audit_svc.list_audit(c.ctx, q)
    return AuditPage(items=[audit_read(r) for r in page.items], next_cursor=page.next_cursor,
                     limit=page.limit)


def operations() -> list[Op]:
    f, p = f"{API}/custom-fields", f"{API}/plugins/{{name}}"
    field = readable(FieldRead)
    return [
        Op("GET", f, "listCustomFields", "List custom field definitions", "custom-fields",
           AUTHENTICATED, list_fields,
           "Readable by every signed-in user: clients need the keys and types to fill "
           "`custom` and to filter with `custom.<key>`.", query_model=FieldListQuery,
           response_model=FieldList),
        Op("POST", f, "createCustomField", "Add a custom field", "custom-fields",
           "custom_fields.manage", create_field, body_model=FieldCreate, status=201,
           location=f"{f}/{{id}}", errors=(409,), **field),
        Op("GET", f"{f}/{{id:int}}", "getCustomField", "Read a custom field definition",
           "custom-fields", AUTHENTICATED, get_field, path_model=IdPath, **field),
        Op("PATCH", f"{f}/{{id:int}}", "updateCustomField", "Change a custom field definition",
           "custom-fields", "custom_fields.manage", update_field,
           "Switch a field off with `active: false` (values stay). Needs `If-Match`.",
           path_model=IdPath, body_model=FieldUpdate, if_match="required", **field),
        Op("GET", f"{API}/plugins", "listPlugins", "List installed modules", "plugins",
           "plugins.manage", list_plugins, response_model=PluginList),
        Op("POST", f"{p}/enable", "enablePlugin", "Switch a module on", "plugins",
           "plugins.manage", enable_plugin,
           "Its dependencies (and glue modules that then apply) come along; its tables are "
           "migrated first. " + REAUTH_HELP, path_model=PluginPath, reauth=True,
           response_model=PluginChange, errors=(409,)),
        Op("GET", f"{p}/disable-plan", "planPluginDisable", "What switching a module off would do",
           "plugins", "plugins.manage", disable_plan,
           "409 (plugin-dependency) names the enabled modules that depend on it, unless cascade.",
           path_model=PluginPath, query_model=DisablePlanQuery, response_model=PluginChange,
           errors=(409,)),
        Op("POST", f"{p}/disable", "disablePlugin", "Switch a module off", "plugins",
           "plugins.manage", disable_plugin,
           "Its pages and API answer 404 and its jobs stop at once, in every process; its data "
           "stays. 409 names enabled dependents unless `cascade`. " + REAUTH_HELP,
           path_model=PluginPath, body_model=PluginDisable, body_required=False, reauth=True,
           response_model=PluginChange, errors=(409,)),
        Op("GET", f"{API}/audit", "listAuditEntries", "Read the audit log", "audit", "audit.read",
           list_audit, "Newest first, keyset pages.", query_model=AuditListQuery,
           response_model=AuditPage),
    ]
