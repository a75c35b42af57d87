"""Forms of the certificates blueprint: settings (with the logo upload), revoke, verify.

The forms parse input into types; the rules (placeholders, NIP, JP range, the logo's
content and size) live in services.certificate_settings and are shown next to the field
they concern by ``apply_service_errors``.
"""

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, RadioField, StringField, TextAreaField
from wtforms.validators import Length

from workshop.organizer.forms import OptionalIntegerField, Required
from workshop.services.certificate_settings import LIMITS, SettingsInput
from workshop.services.certificates import LOGO_MAX_BYTES


class OptionalDateField(DateField):
    """A date (<input type="date">), or None when left blank; the message in Indonesian."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        self.data = None
        if not text:
            return
        for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
            try:
                self.data = datetime.strptime(text, fmt).date()
                return
            except ValueError:
                continue
        raise ValueError(_("Tanggal tidak dikenali. Tulis seperti 2018-03-09."))


def _max(name: str) -> dict:
    return {"maxlength": LIMITS[name]}


class SettingsForm(FlaskForm):
    enabled = BooleanField(_l("Terbitkan sertifikat untuk kegiatan ini"))
    rule = RadioField(
        _l("Syarat kehadiran"),
        default="all_days",
        validate_choice=False,
        choices=[
            ("all_days", _l("Hadir pada setiap hari kegiatan")),
            ("min_days", _l("Hadir sedikitnya sejumlah hari")),
        ],
    )
    min_days = OptionalIntegerField(_l("Jumlah hari minimal"), render_kw={"min": 1})
    number_format = StringField(_l("Format nomor"), [Required()], render_kw=_max("number_format"))
    number_prefix = StringField(
        _l("Kode klasifikasi/awalan {prefix}"), render_kw=_max("number_prefix")
    )
    number_unit = StringField(_l("Singkatan unit penerbit {unit}"), render_kw=_max("number_unit"))
    hours = OptionalIntegerField(_l("Jumlah JP (jam pelajaran)"), render_kw={"min": 1, "max": 200})
    sign_place = StringField(_l("Tempat penandatanganan"), render_kw=_max("sign_place"))
    sign_date = OptionalDateField(_l("Tanggal penandatanganan"))
    signatory_title = StringField(_l("Jabatan penanda tangan"), render_kw=_max("signatory_title"))
    signatory_name = StringField(
        _l("Nama penanda tangan (dengan gelar)"), render_kw=_max("signatory_name")
    )
    signatory_rank = StringField(_l("Pangkat/golongan"), render_kw=_max("signatory_rank"))
    signatory_nip = StringField(
        _l("NIP penanda tangan"),
        render_kw={"maxlength": 24, "inputmode": "numeric", "autocomplete": "off"},
    )
    language = RadioField(
        _l("Bahasa teks sertifikat"),
        default="id",
        validate_choice=False,
        choices=[("id", _l("Bahasa Indonesia")), ("en", _l("Bahasa Inggris"))],
    )
    logo = FileField(
        _l("Logo (PNG atau JPEG, paling besar 1 MB)"), render_kw={"accept": "image/png,image/jpeg"}
    )
    remove_logo = BooleanField(_l("Hapus logo yang diunggah dan pakai logo bawaan"))

    @classmethod
    def data_from_input(cls, data: SettingsInput) -> dict:
        return {
            "enabled": data.enabled,
            "rule": str(data.rule),
            "min_days": data.min_days,
            "number_format": data.number_format,
            "number_prefix": data.number_prefix,
            "number_unit": data.number_unit,
            "hours": data.hours,
            "sign_place": data.sign_place,
            "sign_date": data.sign_date,
            "signatory_title": data.signatory_title,
            "signatory_name": data.signatory_name,
            "signatory_rank": data.signatory_rank,
            "signatory_nip": data.signatory_nip or "",
            "language": data.language,
        }

    def uploaded_logo(self) -> bytes | None:
        """The uploaded file's bytes (read up to just past the limit), or None."""
        upload = self.logo.data
        if upload is None or not getattr(upload, "filename", ""):
            return None
        return upload.read(LOGO_MAX_BYTES + 1)

    def settings_input(self, default_sign_date: date | None) -> SettingsInput:
        return SettingsInput(
            enabled=bool(self.enabled.data),
            rule=self.rule.data or "all_days",
            min_days=self.min_days.data,
            number_format=self.number_format.data or "",
            number_prefix=self.number_prefix.data or "",
            number_unit=self.number_unit.data or "",
            hours=self.hours.data,
            sign_place=self.sign_place.data or "",
            sign_date=self.sign_date.data or default_sign_date,
            signatory_name=self.signatory_name.data or "",
            signatory_title=self.signatory_title.data or "",
            signatory_rank=self.signatory_rank.data or "",
            signatory_nip=self.signatory_nip.data or None,
            language=self.language.data or "id",
            logo=self.uploaded_logo(),
            remove_logo=bool(self.remove_logo.data),
        )

    def apply_service_errors(self, fields: dict[str, list[str]]) -> None:
        for name, messages in fields.items():
            if name in self._fields:
                field = self[name]
                field.errors = [*field.errors, *(m for m in messages if m not in field.errors)]
            else:
                self.form_errors.extend(messages)


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Alasan pencabutan"), [Length(max=500)], render_kw={"rows": 3, "maxlength": 500}
    )


class ActionForm(FlaskForm):
    """An empty form: a POST button with its CSRF token (issue, re-issue)."""


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # a read-only lookup (GET)

    code = StringField(
        _l("Kode verifikasi"),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "off",
            "spellcheck": "false",
            "maxlength": 64,
        },
    )
