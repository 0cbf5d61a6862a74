"""What the pages keep per user: saved list filters."""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from crm_core.models.base import Timestamped


class SavedFilter(Timestamped, table=True):
    """A named set of list filters of one user on one list page (``customers``…), kept as the
    query string of the page. Personal view state: not business data, so it is not audited."""

    __tablename__ = "crm_saved_filter"
    # the unique key (user, page, name) also serves listing a user's filters of a page
    __table_args__ = (UniqueConstraint("user_id", "page", "name", name="uq_crm_saved_filter"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="crm_user.id", ondelete="CASCADE")
    page: str = Field(max_length=64)
    name: str = Field(max_length=60)
    query: str = Field(default="", max_length=2000)
