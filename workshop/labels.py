"""What the pages, exports and the door call a registration's role and status: one
translated label per value, shared by every place that shows them."""

from flask_babel import lazy_gettext as _l

from workshop.models import EventRole, RegistrationStatus

ROLE_LABELS = {
    EventRole.PARTICIPANT: _l("Peserta"),
    EventRole.SPEAKER: _l("Narasumber"),
    EventRole.COMMITTEE: _l("Panitia"),
}
STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: _l("Terdaftar"),
    RegistrationStatus.WAITLISTED: _l("Daftar tunggu"),
    RegistrationStatus.CANCELLED: _l("Dibatalkan"),
}
