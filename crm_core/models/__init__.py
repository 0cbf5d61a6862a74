"""Kernel tables. Importing this module registers them on ``SQLModel.metadata``."""

from crm_core.models.auth import ApiToken, LoginFailure, WebSession
from crm_core.models.customers import CodeSequence, Contact, Customer, FollowUp
from crm_core.models.notifications import Notification
from crm_core.models.system import (
    AuditEntry,
    CustomFieldDefinition,
    DueWork,
    JobRun,
    KernelMeta,
    OutboxEvent,
    OutboxRetry,
    PluginState,
)
from crm_core.models.ui import SavedFilter as SavedFilter
from crm_core.models.users import Role, RoleGrant, Team, TeamMember, User, UserRole

__all__ = [
    "ApiToken",
    "AuditEntry",
    "CodeSequence",
    "Contact",
    "CustomFieldDefinition",
    "Customer",
    "DueWork",
    "FollowUp",
    "JobRun",
    "KernelMeta",
    "LoginFailure",
    "Notification",
    "OutboxEvent",
    "OutboxRetry",
    "PluginState",
    "Role",
    "RoleGrant",
    "Team",
    "TeamMember",
    "User",
    "UserRole",
    "WebSession",
]
