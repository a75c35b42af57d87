"""A registration import waiting for the organizer's confirmation.

The checked rows live in the database (not in process memory or on one server's
disk) between the report and the confirmation, so any app server can finish it.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from workshop.models.base import Base, UTCDateTime, utcnow


class ImportStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    CANCELLED = "cancelled"


class ImportBatch(Base):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    # One dict per row: {"line", "status": created|duplicate|invalid, "data", "errors"}.
    rows: Mapped[list] = mapped_column(JSON)
    status: Mapped[ImportStatus] = mapped_column(String(10), default=ImportStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
