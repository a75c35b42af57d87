"""Shared set-up for the certificate tests: a finished two-day event with attendance.

``certified_event`` builds, relative to FIXED_NOW (Tuesday 15 January 2030): an event on
Sunday 13 and Monday 14 January 2030 with certificate settings switched on, and people
who attended both days (eligible), only the first day (not eligible: missing the 14th),
and a speaker who attended both days. Check-ins are stored directly (the door's rules
are tested elsewhere).
"""

import io
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from tests.conftest import wib
from workshop.extensions import db
from workshop.models import (
    CertificateSettings,
    Checkin,
    CheckinMethod,
    EventDay,
    Registration,
    User,
)
from workshop.services import certificates

DAY1, DAY2 = date(2030, 1, 13), date(2030, 1, 14)
needs_pdftoppm = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing"
)


@dataclass
class Certified:
    event: object
    owner: User
    eligible: list[Registration] = field(default_factory=list)
    partial: list[Registration] = field(default_factory=list)  # missed day two
    speaker: Registration | None = None
    unit: object = None


def add_settings(app, event_id: int, **values) -> None:
    defaults = {
        "enabled": True,
        "number_prefix": "SERT",
        "number_unit": "BAPPEDA",
        "hours": 16,
        "sign_place": "Muara Enim",
        "sign_date": DAY2,
        "signatory_name": "Ir. H. Abdul Najib, MM",
        "signatory_title": "Kepala Badan Perencanaan Pembangunan Daerah Kabupaten Muara Enim",
        "signatory_rank": "Pembina Utama Muda (IV/c)",
        "signatory_nip": "196503121990031005",
    }
    with app.app_context():
        db.session.add(CertificateSettings(event_id=event_id, **{**defaults, **values}))
        db.session.commit()


def check_in(app, event_id: int, registration_ids: list[int], days: list[date], by: User) -> None:
    with app.app_context():
        day_ids = dict(
            db.session.execute(
                db.select(EventDay.date, EventDay.id).where(EventDay.event_id == event_id)
            ).all()
        )
        for reg_id in registration_ids:
            for day in days:
                db.session.add(
                    Checkin(
                        registration_id=reg_id,
                        event_day_id=day_ids[day],
                        event_id=event_id,
                        scanned_by_id=by.id,
                        method=CheckinMethod.CAMERA,
                        checked_in_at=wib(day.year, day.month, day.day, 8),
                    )
                )
        db.session.commit()


def make_certified(
    app,
    make_event,
    make_user,
    make_unit,
    person,
    register,
    *,
    owner=None,
    eligible=("Alice Rahma, S.E.", "Budi Santoso"),
    partial=("Citra Dewi",),
    speaker="Elke Rapp",
    settings=True,
    unit=None,
    **event_fields,
) -> Certified:
    from workshop.models import Role

    owner = owner or make_user(Role.ORGANIZER)
    unit = unit or make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    fields = {
        "starts_at": wib(2030, 1, 13, 8),
        "ends_at": wib(2030, 1, 14, 16),
        "unit_id": unit.id,
        **event_fields,
    }
    event = make_event(owner=owner, **fields)
    if settings:
        add_settings(app, event.id)
    result = Certified(event=event, owner=owner, unit=unit)
    for name in eligible:
        result.eligible.append(register(event, person(name=name, unit=unit)).registration)
    for name in partial:
        result.partial.append(register(event, person(name=name)).registration)
    if speaker:
        result.speaker = register(
            event, person(name=speaker, role="speaker", institution="GIZ")
        ).registration
    both = [r.id for r in result.eligible] + ([result.speaker.id] if result.speaker else [])
    check_in(app, event.id, both, [DAY1, DAY2], owner)
    check_in(app, event.id, [r.id for r in result.partial], [DAY1], owner)
    return result


def issue_all(app, event_id: int, who: User, now=None):
    from tests.conftest import FIXED_NOW

    with app.app_context():
        result = certificates.issue_certificates(
            event_id, actor=db.session.get(User, who.id), now=now or FIXED_NOW
        )
        return {c.registration_id: (c.id, c.number, c.verification_code) for c in result.issued}


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def decode_qr(pdf: bytes, tmp_path) -> list[str]:
    """Render the first page at 150 dpi with pdftoppm and decode every QR code with zxing."""
    import zxingcpp
    from PIL import Image

    source = tmp_path / "certificate.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
    )
    with Image.open(tmp_path / "page.png") as image:
        return [r.text for r in zxingcpp.read_barcodes(image)]


def later(days: int = 0, hours: int = 0):
    from tests.conftest import FIXED_NOW

    return FIXED_NOW + timedelta(days=days, hours=hours)
