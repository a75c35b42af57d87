"""Forms of the public registration pages.

The registration form only carries what the person typed; every rule (name, email,
phone, NIP, unit or institution) is checked by services.registration, whose messages
are put next to the fields by ``RegistrationForm.apply_service_errors``. That keeps one
message per problem and one implementation of each rule for the page, the API and
the import.
"""

from typing import ClassVar

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TelField

from workshop.models import EmploymentStatus, Unit, User
from workshop.services.registration_input import NAME_MAX, RegistrationInput

OTHER = "other"  # the unit select's value for "an institution outside the regency"


class Marked:
    """Marks a field as required for display (asterisk, aria); the service checks it."""

    field_flags: ClassVar[dict] = {"required": True}

    def __call__(self, form, field):
        pass


class RegistrationForm(FlaskForm):
    name = StringField(
        _l("Nama lengkap"),
        [Marked()],
        render_kw={"maxlength": NAME_MAX, "autocomplete": "name"},
    )
    email = EmailField(
        _l("Email"),
        [Marked()],
        render_kw={"maxlength": 254, "autocomplete": "email", "inputmode": "email"},
    )
    phone = TelField(
        _l("Nomor telepon/WhatsApp"),
        render_kw={"maxlength": 30, "autocomplete": "tel", "inputmode": "tel"},
    )
    employment_status = RadioField(
        _l("Status kepegawaian"),
        [Marked()],
        choices=[
            (EmploymentStatus.PNS.value, "PNS"),
            (EmploymentStatus.PPPK.value, "PPPK"),
            (EmploymentStatus.NON_ASN.value, "Non-ASN"),
        ],
        validate_choice=False,  # the service says what is wrong, in Indonesian
    )
    nip = StringField(
        _l("NIP / NI PPPK"),
        render_kw={"maxlength": 30, "inputmode": "numeric", "autocomplete": "off"},
    )
    position = StringField(_l("Jabatan"), render_kw={"maxlength": NAME_MAX})
    unit = SelectField(_l("Unit kerja"), [Marked()], validate_choice=False)
    institution = StringField(
        _l("Nama instansi"), render_kw={"maxlength": NAME_MAX, "autocomplete": "organization"}
    )
    save_profile = BooleanField(_l("Simpan data ini ke profil saya"), default=True)

    def __init__(self, *args, units: list[Unit] = (), logged_in: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.other_errors: list[str] = []
        organization = current_app.config.get("ORGANIZATION_NAME", "")
        self.unit.choices = (
            [("", _("— Pilih unit kerja —"))]
            + [(str(u.id), f"{u.name} ({u.short_name})") for u in units]
            + [(OTHER, _("Instansi lain (di luar %(org)s)", org=organization))]
        )
        if not logged_in:
            del self.save_profile

    @staticmethod
    def data_from_user(user: User) -> dict:
        """The profile as initial values; a unit no longer offered is left unchosen."""
        unit = ""
        if user.unit_id is not None and user.unit is not None and user.unit.active:
            unit = str(user.unit_id)
        elif user.institution:
            unit = OTHER
        return {
            "name": user.name,
            "email": user.email,
            "phone": user.phone or "",
            "employment_status": str(user.employment_status or "") or None,
            "nip": user.nip or "",
            "position": user.position or "",
            "unit": unit,
            "institution": (user.institution or "") if unit == OTHER else "",
        }

    def registration_input(self) -> RegistrationInput | None:
        """The typed values for the service, or None (with a field error) when the unit
        select holds something that is not a choice at all."""
        raw_unit = (self.unit.data or "").strip()
        institution = self.institution.data or ""
        unit_id = None
        if raw_unit.isdigit() and len(raw_unit) <= 18:
            unit_id = int(raw_unit)
        elif raw_unit not in ("", OTHER):
            self.unit.errors = [*self.unit.errors, _("Unit kerja tidak dikenal.")]
            return None
        return RegistrationInput(
            name=self.name.data or "",
            email=self.email.data or "",
            employment_status=self.employment_status.data or "",
            phone=self.phone.data or "",
            nip=self.nip.data or "",
            position=self.position.data or "",
            unit_id=unit_id,
            institution=institution,
        )

    def apply_service_errors(self, fields: dict[str, list[str]]) -> None:
        """Put each message of services.registration next to the field it is about."""
        chose_other = (self.unit.data or "") == OTHER
        editable = ("name", "email", "phone", "employment_status", "nip", "position", "institution")
        for name, messages in fields.items():
            if name == "unit_id":
                # "Other" chosen but no name typed: the missing piece is the institution.
                target = self.institution if chose_other else self.unit
            elif name in editable:
                target = getattr(self, name)
            else:  # a rule about no field of this form (e.g. the role)
                self.other_errors = [*self.other_errors, *messages]
                continue
            target.errors = [*target.errors, *messages]

    @property
    def has_errors(self) -> bool:
        return bool(self.other_errors) or any(f.errors for f in self)


class ResendForm(FlaskForm):
    """ "Sudah mendaftar?": send the manage link again. Prefixed: it shares the page."""

    email = EmailField(
        _l("Email yang dipakai saat mendaftar"),
        [Marked()],
        render_kw={"maxlength": 254, "autocomplete": "email", "inputmode": "email"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="resend", **kwargs)


class ConfirmForm(FlaskForm):
    """A form with nothing but the CSRF token (the cancel button)."""
