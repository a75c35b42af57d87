"""Accounts, their roles and their API tokens."""

import hashlib
import hmac
import secrets
from datetime import datetime
from enum import StrEnum

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from workshop.models.base import Base, UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"
    STAFF = "staff"  # petugas: checks people in at the events assigned to them
    PARTICIPANT = "participant"


class EmploymentStatus(StrEnum):
    PNS = "pns"  # civil servant: NIP of 18 digits
    PPPK = "pppk"  # contract civil servant: NI PPPK of 18 digits
    NON_ASN = "non_asn"  # honorary staff and outside guests: no number


class User(UserMixin, Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(String(20), default=Role.PARTICIPANT)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # Profile used to pre-fill registrations.
    phone: Mapped[str | None] = mapped_column(String(20))
    nip: Mapped[str | None] = mapped_column(String(18))  # NIP/NI PPPK, 18 digits
    employment_status: Mapped[EmploymentStatus | None] = mapped_column(String(10))
    position: Mapped[str | None] = mapped_column(String(200))  # jabatan
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    institution: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit = relationship("Unit")
    tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def session_stamp(self) -> str:
        """Part of the login session's user id: it changes with the password, so a new
        password (own change or an admin's reset) ends every other session and
        remember-me cookie of the account. Keyed with the app's secret: the session
        cookie is signed, not encrypted."""
        key = current_app.secret_key
        digest = hmac.new(
            key if isinstance(key, bytes) else str(key).encode(),
            self.password_hash.encode(),
            hashlib.sha256,
        )
        return digest.hexdigest()[:20]

    def get_id(self) -> str:  # Flask-Login: what the session and remember cookie keep
        return f"{self.id}:{self.session_stamp}"

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_organizer(self) -> bool:
        """May create and manage events (admins may too)."""
        return self.role in (Role.ADMIN, Role.ORGANIZER)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Base):
    """A bearer token for the JSON API. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str | None = None) -> tuple["ApiToken", str]:
        """A new token for ``user``: returns the row and the plain token (shown once)."""
        plain = "wks_" + secrets.token_urlsafe(32)
        return cls(user=user, token_hash=cls.hash(plain), name=name), plain
