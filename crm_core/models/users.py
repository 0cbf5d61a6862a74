from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core.models.base import Versioned


class User(Versioned, table=True):
    __tablename__ = "crm_user"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=254)
    password_hash: str = Field(max_length=255)
    locale: str = Field(default="zh_CN", max_length=10)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    is_active: bool = Field(default=True)
    password_changed_at: datetime | None = None


class Team(Versioned, table=True):
    __tablename__ = "crm_team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    manager_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")


class TeamMember(SQLModel, table=True):
    __tablename__ = "crm_team_member"
    __table_args__ = (Index("ix_crm_team_member_user", "user_id", "team_id"),)

    team_id: int = Field(foreign_key="crm_team.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="crm_user.id", primary_key=True, ondelete="CASCADE")


class Role(Versioned, table=True):
    __tablename__ = "crm_role"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    label: str = Field(max_length=120)
    label_en: str = Field(default="", max_length=120)
    description: str = Field(default="", max_length=500)
    builtin: bool = Field(default=False)


class RoleGrant(SQLModel, table=True):
    """A role may do ``action``; for record actions ``scope`` is own / team / all."""

    __tablename__ = "crm_role_grant"
    __table_args__ = (UniqueConstraint("role_id", "action", name="uq_crm_role_grant"),)

    id: int | None = Field(default=None, primary_key=True)
    role_id: int = Field(foreign_key="crm_role.id", ondelete="CASCADE", index=True)
    action: str = Field(max_length=120)
    scope: str | None = Field(default=None, max_length=8)


class UserRole(SQLModel, table=True):
    __tablename__ = "crm_user_role"

    user_id: int = Field(foreign_key="crm_user.id", primary_key=True, ondelete="CASCADE")
    role_id: int = Field(foreign_key="crm_role.id", primary_key=True, ondelete="CASCADE")
