"""All models, re-exported so that Alembic and the app see every table."""

from workshop.models.audit import AuditLog
from workshop.models.base import Base, UTCDateTime, db, utcnow
from workshop.models.certificate import (
    AttendanceRule,
    Certificate,
    CertificateSettings,
)
from workshop.models.checkin import Checkin, CheckinMethod, EventStaff
from workshop.models.event import AgendaItem, Event, EventDay, EventStatus, Speaker
from workshop.models.importing import ImportBatch, ImportStatus
from workshop.models.mail import MailStatus, OutgoingMail
from workshop.models.registration import EventRole, Registration, RegistrationStatus
from workshop.models.unit import Unit, UnitKind
from workshop.models.user import ApiToken, EmploymentStatus, Role, User

__all__ = [
    "AgendaItem",
    "ApiToken",
    "AttendanceRule",
    "AuditLog",
    "Base",
    "Certificate",
    "CertificateSettings",
    "Checkin",
    "CheckinMethod",
    "EmploymentStatus",
    "Event",
    "EventDay",
    "EventRole",
    "EventStaff",
    "EventStatus",
    "ImportBatch",
    "ImportStatus",
    "MailStatus",
    "OutgoingMail",
    "Registration",
    "RegistrationStatus",
    "Role",
    "Speaker",
    "UTCDateTime",
    "Unit",
    "UnitKind",
    "User",
    "db",
    "utcnow",
]
