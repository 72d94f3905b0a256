"""Trust tables (issue 7): the keyed seal of each watched row's last product-made state."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RowSeal(SQLModel, table=True):
    """HMAC of a customer/staff/holding/approval-request row as the product last wrote it;
    `crm audit verify --data` names every row whose current content no longer matches."""

    __tablename__ = "row_seal"
    entity: str = Field(primary_key=True, max_length=40)
    row_id: int = Field(primary_key=True)
    mac: str = Field(max_length=64)
    event_id: int | None = Field(default=None)
