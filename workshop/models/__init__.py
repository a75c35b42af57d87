"""All models, re-exported so that Alembic and the app see every table."""

from workshop.models.audit import AuditLog
from workshop.models.base import Base, UTCDateTime, db, utcnow
from workshop.models.event import AgendaItem, Event, EventDay, EventStatus, Speaker
from workshop.models.unit import Unit, UnitKind
from workshop.models.user import ApiToken, EmploymentStatus, Role, User

__all__ = [
    "AgendaItem",
    "ApiToken",
    "AuditLog",
    "Base",
    "EmploymentStatus",
    "Event",
    "EventDay",
    "EventStatus",
    "Role",
    "Speaker",
    "UTCDateTime",
    "Unit",
    "UnitKind",
    "User",
    "db",
    "utcnow",
]
