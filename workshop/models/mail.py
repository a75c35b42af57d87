"""Outgoing mail, kept in the database until delivered (an outbox).

Messages are queued in the same transaction as the change they report, delivered
after the commit, and retried by `flask send-mail` when the server was down, so a
registration is never lost to a mail failure and a mail never goes out for a
change that was rolled back.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workshop.models.base import Base, UTCDateTime, utcnow


class MailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum attempts; can be resent by hand


class OutgoingMail(Base):
    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    # None: composed from templates/mail/<kind> when the message is sent (a registration's
    # mails; rendering two templates inside the registration's locked transaction cost
    # more than the rest of the registration), from ``params``.
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # What the text composed at sending needs from the moment of queueing: the site's
    # address the person used ("base_url", for the links) and the waiting-list position.
    params: Mapped[dict | None] = mapped_column(JSON)
    # [{"filename", "content_type", "kind", "ref"}]: rendered when sent, not stored as bytes.
    attachments: Mapped[list | None] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. registration.confirmed
    # The language the text was written in (the registrant's); the attachments, rendered
    # when the message is sent, follow it. None: Indonesian.
    locale: Mapped[str | None] = mapped_column(String(10))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[MailStatus] = mapped_column(String(10), default=MailStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the sender that is delivering it now (the status stays pending until the
    # outcome): another sender skips it, unless the claim is older than the lease (its
    # sender died mid-way).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
