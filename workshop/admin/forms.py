"""Forms of the admin blueprint: users and work units (SKPD/OPD)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from workshop.models import Role, UnitKind

REQUIRED = _l("Wajib diisi.")
TOO_LONG = _l("Paling banyak %(max)d karakter.")

ROLE_LABELS = {
    Role.ADMIN: _l("Admin"),
    Role.ORGANIZER: _l("Penyelenggara"),
    Role.STAFF: _l("Petugas"),
    Role.PARTICIPANT: _l("Peserta"),
}

KIND_LABELS = {
    UnitKind.SECRETARIAT: _l("Sekretariat"),
    UnitKind.INSPECTORATE: _l("Inspektorat"),
    UnitKind.AGENCY: _l("Badan"),
    UnitKind.OFFICE: _l("Dinas"),
    UnitKind.HOSPITAL: _l("Rumah Sakit"),
    UnitKind.DISTRICT: _l("Kecamatan"),
    UnitKind.OTHER: _l("Lainnya"),
}

ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]
KIND_CHOICES = [(kind.value, label) for kind, label in KIND_LABELS.items()]


class ChoiceField(SelectField):
    """A select whose "not one of the options" message is in the user's language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "SelectField"  # rendered like any select by the field() macro

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("Pilih salah satu pilihan yang tersedia."))


class UserSearchForm(FlaskForm):
    """The filter above the user list (GET, so no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Cari nama atau email"),
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
        render_kw={"type": "search", "autocomplete": "off"},
    )
    role = SelectField(
        _l("Peran"),
        choices=[("", _l("Semua peran")), *ROLE_CHOICES],
        validators=[Optional()],
        validate_choice=False,
    )


class UnitSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(
        _l("Cari nama atau singkatan"),
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
        render_kw={"type": "search", "autocomplete": "off"},
    )


class UserCreateForm(FlaskForm):
    name = StringField(
        _l("Nama lengkap dengan gelar"),
        validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(REQUIRED), Length(max=254, message=TOO_LONG)],
        render_kw={"autocomplete": "off", "inputmode": "email"},
    )
    role = ChoiceField(_l("Peran"), choices=ROLE_CHOICES, default=Role.PARTICIPANT.value)
    password = PasswordField(
        _l("Kata sandi awal"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password"},
    )


class UserEditForm(FlaskForm):
    name = StringField(
        _l("Nama lengkap dengan gelar"),
        validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)],
        render_kw={"autocomplete": "off"},
    )
    role = ChoiceField(_l("Peran"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Akun aktif (dapat masuk)"))
    new_password = PasswordField(
        _l("Kata sandi baru"),
        validators=[Optional()],
        render_kw={"autocomplete": "new-password"},
    )


class UnitForm(FlaskForm):
    name = StringField(
        _l("Nama unit kerja"),
        validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)],
        render_kw={"autocomplete": "off"},
    )
    short_name = StringField(
        _l("Singkatan"),
        validators=[DataRequired(REQUIRED), Length(max=60, message=TOO_LONG)],
        render_kw={"autocomplete": "off"},
    )
    kind = ChoiceField(_l("Jenis"), choices=KIND_CHOICES, default=UnitKind.OFFICE.value)
    active = BooleanField(_l("Aktif (dapat dipilih saat pendaftaran)"), default=True)
