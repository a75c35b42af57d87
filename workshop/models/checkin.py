"""Check-ins (presensi): one row per registration per event day, and door staff."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.models.base import Base, UTCDateTime, utcnow


class CheckinMethod(StrEnum):
    CAMERA = "camera"  # phone or laptop camera on the check-in page
    SCANNER = "scanner"  # handheld USB/Bluetooth scanner typing into the page
    SEARCH = "search"  # found by name/NIP/unit at the door
    API = "api"  # a device or integration through the JSON API


class Checkin(Base):
    __tablename__ = "checkin"
    __table_args__ = (
        # The invariant two doors scanning at once must not break: one per person per day.
        UniqueConstraint("registration_id", "event_day_id"),
        Index("ix_checkin_event_time", "event_id", "checked_in_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    event_day_id: Mapped[int] = mapped_column(ForeignKey("event_day.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    scanned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    method: Mapped[CheckinMethod] = mapped_column(String(10))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A client's idempotency key: a retried request with the same nonce never counts twice.
    nonce: Mapped[str | None] = mapped_column(String(64), unique=True)

    registration = relationship("Registration")
    day = relationship("EventDay")
    scanned_by = relationship("User")


class EventStaff(Base):
    """A door staff member (petugas) assigned to check people in at one event."""

    __tablename__ = "event_staff"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")
