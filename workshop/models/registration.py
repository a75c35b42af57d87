"""Registrations: a snapshot of who registered for which event, and their place."""

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.models.base import Base, UTCDateTime, utcnow


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"  # terdaftar
    WAITLISTED = "waitlisted"  # daftar tunggu
    CANCELLED = "cancelled"  # dibatalkan


class EventRole(StrEnum):
    PARTICIPANT = "participant"  # peserta
    SPEAKER = "speaker"  # narasumber
    COMMITTEE = "committee"  # panitia


def new_secret() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


ACTIVE = "status != 'cancelled'"


class Registration(Base):
    __tablename__ = "registration"
    __table_args__ = (
        # One active registration per person per event: same email, or same NIP.
        Index(
            "uq_registration_active_email",
            "event_id",
            "email",
            unique=True,
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
        ),
        Index(
            "uq_registration_active_nip",
            "event_id",
            "nip",
            unique=True,
            sqlite_where=text(f"{ACTIVE} AND nip IS NOT NULL"),
            postgresql_where=text(f"{ACTIVE} AND nip IS NOT NULL"),
        ),
        # The event's registrations by status; with role and unit, the seats taken and a
        # unit's share are counted from the index alone (every registration counts them),
        # and with the waiting time the waiting list's length and last place, in one pass.
        Index(
            "ix_registration_placement", "event_id", "status", "role", "unit_id", "waitlisted_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    # Snapshot of the participant's details at registration time.
    name: Mapped[str] = mapped_column(String(200))  # exactly as typed, titles included
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # normalised: +62...
    nip: Mapped[str | None] = mapped_column(String(18), index=True)  # NIP / NI PPPK
    employment_status: Mapped[str] = mapped_column(String(10))
    position: Mapped[str] = mapped_column(String(200), default="")  # jabatan
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    institution: Mapped[str | None] = mapped_column(String(200))  # outside institution
    role: Mapped[EventRole] = mapped_column(String(20), default=EventRole.PARTICIPANT)
    status: Mapped[RegistrationStatus] = mapped_column(String(20))
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two different secrets: the manage link (cancel, view) and the check-in code (QR).
    manage_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)
    check_in_code: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event = relationship("Event")
    unit = relationship("Unit")
    user = relationship("User")

    @property
    def counts_against_capacity(self) -> bool:
        """Speakers and committee do not take a participant's seat or unit quota."""
        return self.role == EventRole.PARTICIPANT

    @property
    def affiliation(self) -> str:
        """The unit's name or the outside institution, for lists and certificates."""
        return self.unit.name if self.unit is not None else (self.institution or "")

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.email} {self.status}>"
