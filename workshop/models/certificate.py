"""Attendance certificates (sertifikat) and each event's certificate settings."""

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.models.base import Base, UTCDateTime, utcnow


class AttendanceRule(StrEnum):
    ALL_DAYS = "all_days"  # checked in on every event day (the default)
    MIN_DAYS = "min_days"  # checked in on at least ``min_days`` days


# The numbering pattern: {seq} sequence (zero-padded to 3), {prefix}, {unit} (issuing unit
# short name), {month} (Roman numeral of the event's month), {year}. Before 2023 offices
# wrote the Roman month; Permendagri 1/2023 drops it.
DEFAULT_NUMBER_FORMAT = "{seq}/{prefix}/{unit}/{month}/{year}"


def verification_code() -> str:
    """A random, unguessable code printed on the certificate and encoded in its QR."""
    return secrets.token_urlsafe(16)  # 128 bits


class CertificateSettings(Base):
    __tablename__ = "certificate_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    rule: Mapped[AttendanceRule] = mapped_column(String(10), default=AttendanceRule.ALL_DAYS)
    min_days: Mapped[int | None]
    number_format: Mapped[str] = mapped_column(String(100), default=DEFAULT_NUMBER_FORMAT)
    number_prefix: Mapped[str] = mapped_column(String(30), default="SERT")
    number_unit: Mapped[str] = mapped_column(String(30), default="")  # e.g. BAPPEDA
    next_sequence: Mapped[int] = mapped_column(default=1)  # never goes back: no reuse
    hours: Mapped[int | None]  # JP (jam pelajaran, 45 minutes each)
    sign_place: Mapped[str] = mapped_column(String(100), default="")  # "Muara Enim"
    sign_date: Mapped[date | None] = mapped_column(Date)
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_title: Mapped[str] = mapped_column(String(200), default="")  # jabatan
    signatory_rank: Mapped[str] = mapped_column(String(100), default="")  # pangkat/golongan
    signatory_nip: Mapped[str | None] = mapped_column(String(18))
    language: Mapped[str] = mapped_column(String(2), default="id")
    # The logo lives in the database so that every app server can render it.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(String(20))  # image/png, image/jpeg
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event = relationship("Event")


class Certificate(Base):
    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("event_id", "sequence"),
        UniqueConstraint("event_id", "number", name="uq_certificate_event_number"),
        # One valid certificate per registration; revoked ones stay (their number too).
        Index(
            "uq_certificate_active_registration",
            "registration_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(String(100), index=True)
    verification_code: Mapped[str] = mapped_column(
        String(32), unique=True, default=verification_code
    )
    role: Mapped[str] = mapped_column(String(20))  # the registration's role when issued
    hours: Mapped[int | None]  # JP printed on it, kept even if the settings change later
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    event = relationship("Event")
    registration = relationship("Registration")

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
