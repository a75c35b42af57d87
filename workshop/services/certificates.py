"""Certificates: who may get one, how they are numbered, issuing, revoking, verifying.

A certificate goes only to a confirmed registration whose check-ins meet the event's
attendance rule (every event day by default, or at least N days). Numbers come from the
event's ``next_sequence`` under the event's write lock, in a stable order (by name), and
are never reused: revoking keeps the number, and re-issuing takes the next one.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from workshop.models import (
    AttendanceRule,
    Certificate,
    CertificateSettings,
    Checkin,
    Event,
    EventDay,
    Registration,
    RegistrationStatus,
    User,
    db,
)
from workshop.services import audit
from workshop.services.errors import DomainError, ValidationError
from workshop.services.locking import run_locked
from workshop.timeutil import to_wib

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
PLACEHOLDERS = {"seq", "prefix", "unit", "month", "year"}
LOGO_MAX_BYTES = 1024 * 1024


class Standing(StrEnum):
    """Where a registration stands with its certificate."""

    ISSUED = "issued"
    ELIGIBLE = "eligible"  # attendance is enough; the organizer has not issued yet
    NOT_ELIGIBLE = "not_eligible"  # attendance missing on past days
    NOT_FINISHED = "not_finished"  # the rule can still be met on days still to come
    NOT_CONFIRMED = "not_confirmed"
    DISABLED = "disabled"  # the event gives no certificates


@dataclass
class CertificateStatus:
    standing: Standing
    certificate: Certificate | None = None
    missing_days: list[date] = field(default_factory=list)
    attended_days: list[date] = field(default_factory=list)


@dataclass
class IssueResult:
    issued: list[Certificate]
    already: int
    not_eligible: int


# --- settings -----------------------------------------------------------------


def settings_for(event: Event) -> CertificateSettings:
    """The event's settings (unsaved defaults when none exist yet)."""
    found = db.session.scalar(
        db.select(CertificateSettings).where(CertificateSettings.event_id == event.id)
    )
    if found is not None:
        return found
    unit = event.unit.short_name.upper() if event.unit is not None else ""
    return CertificateSettings(
        event_id=event.id,
        enabled=False,
        rule=AttendanceRule.ALL_DAYS,
        number_format="{seq}/{prefix}/{unit}/{month}/{year}",
        number_prefix="SERT",
        number_unit=unit,
        next_sequence=1,
        language="id",
        sign_date=to_wib(event.ends_at).date(),
    )


def check_number_format(fmt: str) -> str:
    """The format, if it uses only known placeholders and includes {seq}."""
    names = set(re.findall(r"{(\w*)}", fmt))
    if "seq" not in names:
        raise ValidationError({"number_format": [str(_l("Format nomor harus memuat {seq}."))]})
    unknown = names - PLACEHOLDERS
    if unknown or re.search(r"{[^}]*[^\w}][^}]*}", fmt):
        raise ValidationError(
            {
                "number_format": [
                    str(_l("Gunakan hanya {seq}, {prefix}, {unit}, {month}, dan {year}."))
                ]
            }
        )
    return fmt


def format_number(settings: CertificateSettings, sequence: int, event: Event) -> str:
    """'001/SERT/BAPPEDA/III/2018': sequence, prefix, unit, Roman month, year of the event."""
    start = to_wib(event.starts_at)
    text = settings.number_format.format(
        seq=f"{sequence:03d}",
        prefix=settings.number_prefix,
        unit=settings.number_unit,
        month=ROMAN[start.month - 1],
        year=start.year,
    )
    return re.sub(r"/{2,}", "/", text).strip("/")


def sniff_logo(data: bytes) -> str:
    """The logo's content type from its first bytes (PNG or JPEG only). Raises ValidationError."""
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError({"logo": [str(_l("Logo paling besar 1 MB."))]})
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        kind = "image/jpeg"
    else:
        raise ValidationError({"logo": [str(_l("Logo harus berkas PNG atau JPEG."))]})
    try:  # the header could lie: let Pillow read the whole image
        import io

        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception as exc:
        raise ValidationError(
            {"logo": [str(_l("Berkas logo rusak atau tidak dapat dibaca."))]}
        ) from exc
    return kind


# --- attendance and eligibility --------------------------------------------------


def attended_dates(event_id: int) -> dict[int, set[date]]:
    """For each registration of the event, the event days it was checked in on."""
    rows = db.session.execute(
        db.select(Checkin.registration_id, EventDay.date)
        .join(EventDay, Checkin.event_day_id == EventDay.id)
        .where(Checkin.event_id == event_id)
    )
    result: dict[int, set[date]] = {}
    for reg_id, day in rows:
        result.setdefault(reg_id, set()).add(day)
    return result


def _required(settings: CertificateSettings, days: list[date]) -> int:
    if settings.rule == AttendanceRule.MIN_DAYS and settings.min_days:
        return min(settings.min_days, len(days))
    return len(days)


def standing(
    event: Event,
    reg: Registration,
    settings: CertificateSettings,
    attended: set[date],
    today: date,
    certificate: Certificate | None = None,
) -> CertificateStatus:
    """Where ``reg`` stands: issued, eligible, or why not (with the missing days)."""
    days = event.day_dates
    present = sorted(attended & set(days))
    missing = [d for d in days if d not in attended]
    if certificate is not None and certificate.is_valid:
        return CertificateStatus(Standing.ISSUED, certificate, missing, present)
    if not settings.enabled:
        return CertificateStatus(Standing.DISABLED, None, missing, present)
    if reg.status != RegistrationStatus.CONFIRMED:
        return CertificateStatus(Standing.NOT_CONFIRMED, None, missing, present)
    if len(present) >= _required(settings, days) and days:
        return CertificateStatus(Standing.ELIGIBLE, None, [], present)
    upcoming = [d for d in missing if d >= today]
    if len(present) + len(upcoming) >= _required(settings, days):
        return CertificateStatus(Standing.NOT_FINISHED, None, missing, present)
    return CertificateStatus(
        Standing.NOT_ELIGIBLE, None, [d for d in missing if d < today], present
    )


def active_certificate(registration_id: int) -> Certificate | None:
    return db.session.scalar(
        db.select(Certificate).where(
            Certificate.registration_id == registration_id, Certificate.revoked_at.is_(None)
        )
    )


def status_for(reg: Registration, now: datetime) -> CertificateStatus:
    """The certificate status of one registration (for its manage page and My events)."""
    event = reg.event
    settings = settings_for(event)
    attended = attended_dates(event.id).get(reg.id, set())
    return standing(event, reg, settings, attended, to_wib(now).date(), active_certificate(reg.id))


def overview(event: Event, now: datetime) -> list[tuple[Registration, CertificateStatus]]:
    """Every active registration of the event with its certificate status, by name."""
    settings = settings_for(event)
    attended = attended_dates(event.id)
    certificates = {
        c.registration_id: c
        for c in db.session.scalars(
            db.select(Certificate).where(
                Certificate.event_id == event.id, Certificate.revoked_at.is_(None)
            )
        )
    }
    regs = db.session.scalars(
        db.select(Registration).where(
            Registration.event_id == event.id, Registration.status != RegistrationStatus.CANCELLED
        )
    ).all()
    today = to_wib(now).date()
    rows = [
        (r, standing(event, r, settings, attended.get(r.id, set()), today, certificates.get(r.id)))
        for r in regs
    ]
    rows.sort(key=lambda pair: (pair[0].name.casefold(), pair[0].id))
    return rows


# --- issuing and revoking ----------------------------------------------------------


def issue_certificates(
    event_id: int, *, actor: User, now: datetime, registration_id: int | None = None
) -> IssueResult:
    """Issue certificates to everyone eligible who has none (or to one registration).

    Locked transaction, commits. Numbers are given in order of name (then id) from the
    event's next_sequence, so two organizers issuing at once never share or skip a
    number. Raises DomainError ``certificates_disabled`` when the event gives none.
    """

    def work(event: Event | None) -> IssueResult:
        if event is None:
            raise DomainError(str(_l("Kegiatan tidak ditemukan.")), code="not_found")
        settings = db.session.scalar(
            db.select(CertificateSettings)
            .where(CertificateSettings.event_id == event.id)
            .with_for_update()
        )
        if settings is None or not settings.enabled:
            raise DomainError(
                str(_l("Sertifikat belum diaktifkan untuk kegiatan ini.")),
                code="certificates_disabled",
            )
        issued, already, not_eligible = [], 0, 0
        for reg, status in overview(event, now):
            if registration_id is not None and reg.id != registration_id:
                continue
            if status.standing == Standing.ISSUED:
                already += 1
            elif status.standing == Standing.ELIGIBLE:
                sequence = settings.next_sequence
                settings.next_sequence = sequence + 1
                cert = Certificate(
                    event_id=event.id,
                    registration_id=reg.id,
                    sequence=sequence,
                    number=format_number(settings, sequence, event),
                    role=str(reg.role),
                    hours=settings.hours,
                    issued_at=now,
                    issued_by_id=actor.id,
                )
                db.session.add(cert)
                issued.append(cert)
            else:
                not_eligible += 1
        db.session.flush()
        if issued:
            audit.record(
                actor,
                "certificate.issue",
                event,
                count=len(issued),
                first=issued[0].number,
                last=issued[-1].number,
            )
        return IssueResult(issued, already, not_eligible)

    return run_locked(event_id, work)


def revoke(certificate: Certificate, *, reason: str, actor: User, now: datetime) -> Certificate:
    """Revoke with a reason (required). The number stays taken. The caller commits."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationError(
            {"reason": [str(_l("Tuliskan alasan pencabutan (paling banyak 500 karakter)."))]}
        )
    if certificate.revoked_at is not None:
        raise DomainError(str(_l("Sertifikat ini sudah dicabut.")), code="already_revoked")
    certificate.revoked_at, certificate.revoked_reason = now, reason
    certificate.revoked_by_id = actor.id
    audit.record(actor, "certificate.revoke", certificate, number=certificate.number, reason=reason)
    return certificate


def find(event_id: int | None, number_or_id: str) -> Certificate | None:
    """A certificate by id, or by number within an event."""
    if number_or_id.isdigit():
        found = db.session.get(Certificate, int(number_or_id))
        if found is not None and (event_id is None or found.event_id == event_id):
            return found
    query = db.select(Certificate).where(Certificate.number == number_or_id)
    if event_id is not None:
        query = query.where(Certificate.event_id == event_id)
    matches = db.session.scalars(query.limit(2)).all()
    return matches[0] if len(matches) == 1 else None


def verify(code: str) -> Certificate | None:
    """The certificate with this verification code, valid or revoked; None if unknown."""
    if not code or len(code) > 32 or not re.fullmatch(r"[A-Za-z0-9_\-]+", code):
        return None
    return db.session.scalar(db.select(Certificate).where(Certificate.verification_code == code))


def counts(event_id: int) -> dict[str, int]:
    rows = db.session.execute(
        db.select(Certificate.revoked_at.is_(None), func.count(Certificate.id))
        .where(Certificate.event_id == event_id)
        .group_by(Certificate.revoked_at.is_(None))
    )
    result = {"valid": 0, "revoked": 0}
    for valid, n in rows:
        result["valid" if valid else "revoked"] += n
    return result
