"""An event's certificate settings: checking what the organizer typed and storing it.

``check_settings`` applies the rules and returns normalised values (the preview renders
from them without storing anything); ``save_settings`` stores them. The numbering
rules themselves (placeholders, format) are ``services.certificates``'.
"""

from dataclasses import dataclass, replace
from datetime import date

from flask_babel import lazy_gettext as _l

from workshop.models import AttendanceRule, CertificateSettings, Event, User, db
from workshop.services import audit
from workshop.services.certificates import (
    check_number_format,
    format_number,
    settings_for,
    sniff_logo,
)
from workshop.services.errors import ValidationError
from workshop.services.identity import IdentityError, check_nip

HOURS_MAX = 200  # JP; a long training course, not a typo
LANGUAGES = ("id", "en")
LIMITS = {
    "number_format": 100,
    "number_prefix": 30,
    "number_unit": 30,
    "sign_place": 100,
    "signatory_name": 200,
    "signatory_title": 200,
    "signatory_rank": 100,
}
# Needed on a certificate that is actually issued: who signs it, where.
REQUIRED_WHEN_ENABLED = ("sign_place", "signatory_name", "signatory_title")


@dataclass
class SettingsInput:
    """What the settings form sends. ``logo`` is a new upload (None: keep the current one)."""

    enabled: bool = False
    rule: str = AttendanceRule.ALL_DAYS
    min_days: int | None = None
    number_format: str = "{seq}/{prefix}/{unit}/{month}/{year}"
    number_prefix: str = "SERT"
    number_unit: str = ""
    hours: int | None = None
    sign_place: str = ""
    sign_date: date | None = None
    signatory_name: str = ""
    signatory_title: str = ""
    signatory_rank: str = ""
    signatory_nip: str | None = None
    language: str = "id"
    logo: bytes | None = None
    remove_logo: bool = False
    # Filled in by check_settings: the logo the certificate will show.
    logo_type: str | None = None


def input_from_settings(settings: CertificateSettings) -> SettingsInput:
    return SettingsInput(
        enabled=bool(settings.enabled),
        rule=str(settings.rule or AttendanceRule.ALL_DAYS),
        min_days=settings.min_days,
        number_format=settings.number_format,
        number_prefix=settings.number_prefix,
        number_unit=settings.number_unit,
        hours=settings.hours,
        sign_place=settings.sign_place,
        sign_date=settings.sign_date,
        signatory_name=settings.signatory_name,
        signatory_title=settings.signatory_title,
        signatory_rank=settings.signatory_rank,
        signatory_nip=settings.signatory_nip,
        language=settings.language or "id",
        logo=settings.logo,
        logo_type=settings.logo_type,
    )


def _add(errors: dict, name: str, message) -> None:
    errors.setdefault(name, []).append(str(message))


def check_settings(event: Event, data: SettingsInput, *, today: date) -> SettingsInput:
    """The settings with text trimmed, the NIP as 18 digits and the logo decided (a new
    upload, the stored one, or none after "remove"). Raises ValidationError with a message
    per field: unknown placeholders or no {seq}, a minimum of days outside 1..days, JP
    outside 1..200, a NIP that is not a valid NIP, a logo that is not a PNG/JPEG up to
    1 MB, and a missing signatory or signing place when certificates are switched on."""
    errors: dict[str, list[str]] = {}
    text = {name: (getattr(data, name) or "").strip() for name in LIMITS}
    for name, limit in LIMITS.items():
        if len(text[name]) > limit:
            _add(errors, name, _l("Paling banyak %(n)d karakter.", n=limit))
    clean = replace(data, **text)

    if clean.rule not in (AttendanceRule.ALL_DAYS, AttendanceRule.MIN_DAYS):
        _add(errors, "rule", _l("Pilih syarat kehadiran."))
    day_count = len(event.days)
    if clean.rule == AttendanceRule.MIN_DAYS:
        if clean.min_days is None:
            _add(errors, "min_days", _l("Isi jumlah hari minimal."))
        elif not 1 <= clean.min_days <= max(day_count, 1):
            _add(
                errors,
                "min_days",
                _l(
                    "Jumlah hari harus antara 1 dan %(n)d (jumlah hari kegiatan).",
                    n=max(day_count, 1),
                ),
            )
    else:
        clean.min_days = None

    if not text["number_format"]:
        _add(errors, "number_format", _l("Wajib diisi."))
    else:
        try:
            check_number_format(text["number_format"])
        except ValidationError as exc:
            for message in exc.fields.get("number_format", []):
                _add(errors, "number_format", message)
    for name in ("number_prefix", "number_unit"):
        if "{" in text[name] or "}" in text[name]:
            _add(errors, name, _l("Tanda { dan } tidak boleh dipakai di sini."))
    if (
        "number_format" not in errors
        and not errors.get("number_prefix")
        and not errors.get("number_unit")
    ):
        example = format_number(clean, 999, event)
        if len(example) > 100:
            _add(
                errors,
                "number_format",
                _l("Nomor sertifikat menjadi terlalu panjang (paling banyak 100 karakter)."),
            )

    if clean.hours is not None and not 1 <= clean.hours <= HOURS_MAX:
        _add(errors, "hours", _l("JP harus antara 1 dan %(n)d, atau dikosongkan.", n=HOURS_MAX))

    nip = (clean.signatory_nip or "").strip()
    clean.signatory_nip = None
    if nip:
        try:
            clean.signatory_nip = check_nip(nip, today)
        except IdentityError as exc:
            _add(errors, "signatory_nip", exc)

    if clean.language not in LANGUAGES:
        _add(errors, "language", _l("Pilih bahasa sertifikat."))

    if clean.enabled:
        for name in REQUIRED_WHEN_ENABLED:
            if not text[name]:
                _add(errors, name, _l("Wajib diisi bila sertifikat diaktifkan."))

    _check_logo(clean, errors)
    if errors:
        raise ValidationError(errors)
    return clean


def _check_logo(clean: SettingsInput, errors: dict) -> None:
    """A new upload is checked by its content (not its name); "remove" drops the logo."""
    if clean.remove_logo:
        clean.logo, clean.logo_type = None, None
        return
    if clean.logo is None or clean.logo_type is not None:
        return  # nothing new: the stored logo (already checked) stays
    try:
        clean.logo_type = sniff_logo(clean.logo)
    except ValidationError as exc:
        for message in exc.fields.get("logo", []):
            _add(errors, "logo", message)


def save_settings(
    event: Event, data: SettingsInput, *, actor: User, today: date
) -> CertificateSettings:
    """Check (see ``check_settings``) and store the event's settings. The caller commits.
    Issued certificates keep their numbers and JP; only later ones follow the changes."""
    clean = check_settings(event, data, today=today)
    settings = settings_for(event)
    if settings.id is None:
        db.session.add(settings)
    for name in (
        "enabled",
        "rule",
        "min_days",
        "number_format",
        "number_prefix",
        "number_unit",
        "hours",
        "sign_place",
        "sign_date",
        "signatory_name",
        "signatory_title",
        "signatory_rank",
        "signatory_nip",
        "language",
    ):
        setattr(settings, name, getattr(clean, name))
    if clean.remove_logo or clean.logo is not None:
        settings.logo, settings.logo_type = clean.logo, clean.logo_type
    db.session.flush()
    audit.record(
        actor,
        "certificate.settings",
        event,
        enabled=clean.enabled,
        rule=str(clean.rule),
        number_format=clean.number_format,
        logo="removed"
        if clean.remove_logo
        else ("uploaded" if data.logo is not None and data.logo_type is None else "kept"),
    )
    return settings
