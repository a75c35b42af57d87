"""Forms of the organizer's registration pages: search, row actions, on-behalf, import.

The forms parse input only; the registration rules (NIP, phone, unit or institution)
live in services.registration_input.validate_registration, whose messages are shown next to
the fields by ``OnBehalfForm.apply_service_errors``.
"""

from typing import ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, HiddenField, SelectField, StringField, TelField

from workshop.labels import ROLE_LABELS, STATUS_LABELS
from workshop.models import EmploymentStatus, EventRole, MailStatus, Unit
from workshop.services.registration_input import NAME_MAX, RegistrationInput

OTHER = "other"  # the unit choice "another institution"

MAIL_STATUS_LABELS = {
    MailStatus.SENT: _l("Terkirim"),
    MailStatus.PENDING: _l("Menunggu"),
    MailStatus.FAILED: _l("Gagal"),
}
MAIL_KIND_LABELS = {
    "registration.confirmed": _l("Konfirmasi pendaftaran"),
    "registration.waitlisted": _l("Masuk daftar tunggu"),
    "registration.promoted": _l("Mendapat tempat"),
    "registration.cancelled": _l("Pembatalan"),
    "registration.manage_link": _l("Tautan pengelolaan"),
}
EMPLOYMENT_LABELS = {
    EmploymentStatus.PNS: _l("PNS"),
    EmploymentStatus.PPPK: _l("PPPK"),
    EmploymentStatus.NON_ASN: _l("Non-ASN (honorer, tamu dari luar)"),
}


class ServiceChecked:
    """Marks a field required for display; the service checks it (one rule, one message)."""

    field_flags: ClassVar[dict] = {"required": True}

    def __call__(self, form, field):
        pass


def _unit_choice(value):
    """Select value -> unit id, OTHER, or None; anything else an id no unit has."""
    if value in (None, ""):
        return None
    if value == OTHER:
        return OTHER
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class SearchForm(FlaskForm):
    """The GET filter above the list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Cari"),
        render_kw={
            "placeholder": _l("Nama, NIP, atau unit kerja"),
            "maxlength": 200,
            "type": "search",
        },
    )
    status = SelectField(_l("Status"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _("Semua status"))] + [
            (s.value, str(label)) for s, label in STATUS_LABELS.items()
        ]


class ActionForm(FlaskForm):
    """A POST button with its CSRF token; ``next`` returns to the list as it was."""

    next = HiddenField()


class OnBehalfForm(FlaskForm):
    name = StringField(
        _l("Nama lengkap dan gelar"),
        [ServiceChecked()],
        render_kw={"maxlength": NAME_MAX, "autocomplete": "off"},
    )
    email = EmailField(
        _l("Email"), [ServiceChecked()], render_kw={"maxlength": 254, "autocomplete": "off"}
    )
    phone = TelField(_l("Nomor HP/WhatsApp"), render_kw={"maxlength": 30, "autocomplete": "off"})
    employment_status = SelectField(
        _l("Status kepegawaian"), [ServiceChecked()], validate_choice=False
    )
    nip = StringField(
        _l("NIP / NI PPPK"),
        render_kw={"maxlength": 30, "inputmode": "numeric", "autocomplete": "off"},
    )
    position = StringField(_l("Jabatan"), render_kw={"maxlength": NAME_MAX})
    unit_id = SelectField(
        _l("Unit kerja"), [ServiceChecked()], coerce=_unit_choice, validate_choice=False
    )
    institution = StringField(_l("Nama instansi lain"), render_kw={"maxlength": NAME_MAX})
    role = SelectField(_l("Peran"), validate_choice=False, default=EventRole.PARTICIPANT.value)

    def __init__(self, *args, units: list[Unit] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.employment_status.choices = [("", _("— pilih —"))] + [
            (s.value, str(label)) for s, label in EMPLOYMENT_LABELS.items()
        ]
        self.unit_id.choices = (
            [("", _("— pilih —"))]
            + [(u.id, f"{u.name} ({u.short_name})") for u in units]
            + [(OTHER, _("Instansi lain (tulis namanya di bawah)"))]
        )
        self.role.choices = [(r.value, str(label)) for r, label in ROLE_LABELS.items()]

    def registration_input(self) -> RegistrationInput:
        unit = self.unit_id.data
        return RegistrationInput(
            name=self.name.data or "",
            email=self.email.data or "",
            employment_status=self.employment_status.data or "",
            phone=self.phone.data or "",
            nip=self.nip.data or "",
            position=self.position.data or "",
            unit_id=unit if isinstance(unit, int) else None,
            institution=self.institution.data or "",
            role=self.role.data or EventRole.PARTICIPANT,
        )

    def apply_service_errors(self, fields: dict[str, list[str]]) -> None:
        """Show a service ValidationError next to the fields it names."""
        for name, messages in fields.items():
            if name == "unit_id" and self.unit_id.data == OTHER:
                name, messages = "institution", [_("Tulis nama instansi.")]
            target = self[name] if name in self._fields else None
            if target is None:
                self.form_errors.extend(messages)
            else:
                target.errors = [*target.errors, *(m for m in messages if m not in target.errors)]


class ImportForm(FlaskForm):
    file = FileField(
        _l("Berkas daftar peserta (CSV atau XLSX)"),
        [ServiceChecked()],
        render_kw={
            "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-"
            "officedocument.spreadsheetml.sheet"
        },
    )
