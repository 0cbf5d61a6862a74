"""The kernel's own hook implementations: its entities, actions and default answers.

Registered first under the name ``core`` and marked ``trylast`` where plugins may answer first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crm_core.declarations import Action, EntityDecl, MenuItem
from crm_core.hookspecs import hookimpl
from crm_core.models import Contact, Customer, FollowUp
from crm_core.permissions.catalog import KERNEL_ACTIONS

if TYPE_CHECKING:
    from crm_core.context import Ctx
    from crm_core.kernel import Kernel


@hookimpl
def register_entities(kernel: Kernel) -> list[EntityDecl]:
    return [
        EntityDecl(
            "customer", Customer, "客户", "Customer", owner_column="owner_id",
            read_action="customers.read",
            sensitive_fields={"id_number": "contacts.see_id_number"}, custom_fields=True,
        ),
        EntityDecl(
            "contact", Contact, "联系人", "Contact", parent=("customer_id", "customer"),
            read_action="contacts.read",
            sensitive_fields={
                "phone": "contacts.see_phone",
                "id_number": "contacts.see_id_number",
            },
            custom_fields=True,
        ),
        EntityDecl(
            "followup", FollowUp, "跟进记录", "Follow-up", parent=("customer_id", "customer"),
            read_action="followups.read", custom_fields=False,
        ),
    ]


@hookimpl
def register_permissions(kernel: Kernel) -> list[Action]:
    return list(KERNEL_ACTIONS)


# The administration pages (crm_core/web/views/admin*.py): an entry per page, shown only to the
# users holding the page's permission.
ADMIN_MENU = [
    MenuItem("admin.modules", "模块管理", "Modules", "/admin/modules", "plugins.manage", order=900),
    MenuItem("admin.users", "用户", "Users", "/admin/users", "users.manage", order=910),
    MenuItem("admin.teams", "团队", "Teams", "/admin/teams", "teams.manage", order=920),
    MenuItem("admin.roles", "角色与权限", "Roles", "/admin/roles", "roles.manage", order=930),
    MenuItem("admin.fields", "自定义字段", "Custom fields", "/admin/fields", "custom_fields.manage",
             order=940),
    MenuItem("admin.audit", "操作日志", "Audit log", "/admin/audit", "audit.read", order=950),
]


# The customer centre (crm_core/web/views/customers*.py).
CUSTOMER_MENU = [
    MenuItem("customers", "客户", "Customers", "/customers", "customers.read", order=10),
]


@hookimpl
def register_menu_items(kernel: Kernel) -> list[MenuItem]:
    """The kernel's own menu entries."""
    return [*CUSTOMER_MENU, *ADMIN_MENU]


@hookimpl
def register_jobs(kernel: Kernel) -> list[Any]:
    """The kernel's own jobs (``crm_core.core_jobs``)."""
    from crm_core.core_jobs import core_jobs

    return core_jobs()


@hookimpl(trylast=True)
def find_customer_matches(
    kernel: Kernel, ctx: Ctx, name: str | None, phone: str | None, email: str | None
) -> list[Any]:
    from crm_core.services.customers import exact_matches

    return exact_matches(ctx, name=name, phone=phone, email=email)
