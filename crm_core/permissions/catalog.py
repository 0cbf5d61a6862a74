"""The kernel's own actions and the built-in roles."""

from __future__ import annotations

from crm_core.declarations import Action

BUILTIN_ROLES: dict[str, tuple[str, str, str]] = {
    # name: (zh label, en label, description)
    "admin": ("管理员", "Administrator", "Users, roles, field permissions, modules, backups"),
    "sales_manager": ("销售经理", "Sales manager", "Team data, approvals, reports"),
    "sales_rep": ("销售代表", "Sales rep", "Own customers and follow-ups"),
    "service_agent": ("客服专员", "Service agent", "Tickets and customers' service history"),
    "marketing": ("市场专员", "Marketing", "Segments and campaigns; no sensitive fields"),
    "viewer": ("只读用户", "Viewer", "Reads customers; changes nothing"),
}

A, M, R, S, K, V = "admin", "sales_manager", "sales_rep", "service_agent", "marketing", "viewer"


def _rec(entity: str, verb: str, zh: str, en: str, **defaults: str) -> Action:
    plural = {"customer": "customers", "contact": "contacts", "followup": "followups"}[entity]
    grants: dict[str, str | bool] = {A: "all", **defaults}
    return Action(f"{plural}.{verb}", zh, en, entity=entity, defaults=grants)


def _flag(name: str, zh: str, en: str, *roles: str, sensitive: bool = False) -> Action:
    return Action(name, zh, en, defaults={r: True for r in (A, *roles)}, sensitive=sensitive)


KERNEL_ACTIONS: list[Action] = [
    _rec("customer", "read", "查看客户", "Read customers",
         **{M: "team", R: "own", S: "all", K: "all", V: "all"}),
    _rec("customer", "create", "新建客户", "Create customers", **{M: "team", R: "own"}),
    _rec("customer", "update", "编辑客户", "Edit customers", **{M: "team", R: "own"}),
    _rec("customer", "delete", "删除客户", "Delete customers", **{M: "team"}),
    _rec("customer", "export", "导出客户", "Export customers", **{M: "team", K: "all"}),
    _rec("customer", "assign", "分配负责人", "Reassign owners", **{M: "team"}),
    _rec("contact", "read", "查看联系人", "Read contacts",
         **{M: "team", R: "own", S: "all", K: "all", V: "all"}),
    _rec("contact", "create", "新建联系人", "Create contacts", **{M: "team", R: "own"}),
    _rec("contact", "update", "编辑联系人", "Edit contacts", **{M: "team", R: "own"}),
    _rec("contact", "delete", "删除联系人", "Delete contacts", **{M: "team", R: "own"}),
    _rec("followup", "read", "查看跟进记录", "Read follow-ups",
         **{M: "team", R: "own", S: "all", K: "all", V: "all"}),
    _rec("followup", "create", "新建跟进记录", "Log follow-ups", **{M: "team", R: "own", S: "all"}),
    _rec("followup", "update", "编辑跟进记录", "Edit follow-ups", **{M: "team", R: "own"}),
    _rec("followup", "delete", "删除跟进记录", "Delete follow-ups", **{M: "team"}),
    _flag("contacts.see_phone", "查看完整电话", "See full phone numbers", M, R, S),
    _flag("contacts.see_id_number", "查看证件号码", "See ID numbers", M),
    _flag("users.manage", "管理用户", "Manage users", sensitive=True),
    _flag("teams.manage", "管理团队", "Manage teams"),
    _flag("roles.manage", "管理角色与权限", "Manage roles and permissions", sensitive=True),
    _flag("custom_fields.manage", "管理自定义字段", "Manage custom fields"),
    _flag("plugins.manage", "管理模块", "Manage modules", sensitive=True),
    _flag("audit.read", "查看操作日志", "Read the audit log", M),
]
