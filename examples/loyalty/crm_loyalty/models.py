"""The points ledger: one row per award (an expired award no longer counts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from crm_core.models.base import Timestamped


class LoyaltyEntry(Timestamped, table=True):
    __tablename__ = "loyalty_entry"
    __table_args__ = (UniqueConstraint("opportunity_id", name="uq_loyalty_entry_opportunity"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="crm_customer.id", ondelete="CASCADE", index=True)
    opportunity_id: int | None = None  # one award per won opportunity
    points: int
    reason: str = Field(max_length=200)
    expires_at: datetime = Field(index=True)
    expired: bool = Field(default=False)
