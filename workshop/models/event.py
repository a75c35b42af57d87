"""Events with their days, speakers (narasumber) and agenda."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.models.base import Base, UTCDateTime, utcnow


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("unit_quota IS NULL OR unit_quota > 0", name="unit_quota_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    capacity: Mapped[int | None]  # None: unlimited
    unit_quota: Mapped[int | None]  # max registrations per work unit; None: no quota
    waitlist: Mapped[bool] = mapped_column(default=True)
    status: Mapped[EventStatus] = mapped_column(String(20), default=EventStatus.DRAFT, index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # organizing unit
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner = relationship("User")
    unit = relationship("Unit")
    days: Mapped[list["EventDay"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventDay.date"
    )
    speakers: Mapped[list["Speaker"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Speaker.position"
    )
    agenda: Mapped[list["AgendaItem"]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="(AgendaItem.starts_at, AgendaItem.position)",
    )

    @property
    def day_dates(self) -> list[date]:
        return [d.date for d in self.days]

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


class EventDay(Base):
    """One calendar day (in WIB) on which the event takes place; attendance is per day."""

    __tablename__ = "event_day"
    __table_args__ = (UniqueConstraint("event_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date)

    event: Mapped[Event] = relationship(back_populates="days")


class Speaker(Base):
    """A narasumber: name as it should print (titles included) and affiliation."""

    __tablename__ = "speaker"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    affiliation: Mapped[str] = mapped_column(String(200), default="")

    event: Mapped[Event] = relationship(back_populates="speakers")


class AgendaItem(Base):
    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(300))
    speaker: Mapped[str] = mapped_column(String(200), default="")

    event: Mapped[Event] = relationship(back_populates="agenda")
