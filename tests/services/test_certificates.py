"""Certificate rules: eligibility by attendance, stable numbering, revoke and re-issue."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import FIXED_NOW, wib
from workshop.extensions import db
from workshop.models import (
    AttendanceRule,
    Certificate,
    CertificateSettings,
    Event,
    Role,
    User,
)
from workshop.services import certificates, checkin
from workshop.services.certificates import Standing
from workshop.services.errors import DomainError, ValidationError

DAY1 = wib(2030, 1, 15, 8)  # FIXED_NOW is 09.00 WIB on this day


@pytest.fixture
def two_days(app, make_event, make_user, make_unit):
    organizer = make_user(Role.ORGANIZER)
    unit = make_unit(short_name="Bappeda")
    event = make_event(
        owner=organizer, starts_at=DAY1, ends_at=DAY1 + timedelta(days=1, hours=8), unit_id=unit.id
    )
    with app.app_context():
        db.session.add(
            CertificateSettings(
                event_id=event.id,
                enabled=True,
                number_prefix="SERT",
                number_unit="BAPPEDA",
                hours=8,
            )
        )
        db.session.commit()
    return event, organizer


def scan_in(app, event, reg, who, now):
    with app.app_context():
        actor = db.session.get(User, who.id)
        result = checkin.scan(
            checkin.open_door(actor, event.id, now), reg.check_in_code, actor=actor, now=now
        )
        assert result.result == "ok"


def issue(app, event, who, now=FIXED_NOW, **kwargs):
    with app.app_context():
        result = certificates.issue_certificates(
            event.id, actor=db.session.get(User, who.id), now=now, **kwargs
        )
        return [(c.number, c.registration_id) for c in result.issued], result.not_eligible


def test_number_format_and_roman_month(app, two_days):
    event, _ = two_days
    with app.app_context():
        settings = certificates.settings_for(db.session.get(Event, event.id))
        ev = db.session.get(Event, event.id)
        assert certificates.format_number(settings, 1, ev) == "001/SERT/BAPPEDA/I/2030"
        settings.number_format = "893/{seq}/{unit}/{year}"
        assert certificates.format_number(settings, 12, ev) == "893/012/BAPPEDA/2030"
    with pytest.raises(ValidationError):
        certificates.check_number_format("{prefix}/{year}")  # no sequence
    with pytest.raises(ValidationError):
        certificates.check_number_format("{seq}/{secret.__class__}")


def test_all_days_rule_multi_day_with_late_check_in(app, two_days, person, register):
    event, organizer = two_days
    alice = register(event, person(name="Alice")).registration
    bob = register(event, person(name="Bob")).registration
    scan_in(app, event, alice, organizer, FIXED_NOW)
    scan_in(app, event, bob, organizer, FIXED_NOW)
    # Day one: the rule cannot be met yet (day two is still to come).
    with app.app_context():
        status = certificates.status_for(db.session.get(type(alice), alice.id), FIXED_NOW)
        assert status.standing == Standing.NOT_FINISHED
        assert status.missing_days == [date(2030, 1, 16)]
    assert issue(app, event, organizer) == ([], 2)
    day2 = FIXED_NOW + timedelta(days=1)
    scan_in(app, event, bob, organizer, day2)
    issued, not_eligible = issue(app, event, organizer, now=day2)
    assert issued == [("001/SERT/BAPPEDA/I/2030", bob.id)]
    assert not_eligible == 1
    # Alice arrives late on day two: she gets the next number.
    scan_in(app, event, alice, organizer, day2 + timedelta(hours=3))
    assert issue(app, event, organizer, now=day2 + timedelta(hours=4))[0] == [
        ("002/SERT/BAPPEDA/I/2030", alice.id)
    ]
    # After the event, someone who missed day two is told which day.
    carol = register(event, person(name="Carol")).registration
    scan_in(app, event, carol, organizer, FIXED_NOW + timedelta(hours=1))
    with app.app_context():
        status = certificates.status_for(
            db.session.get(type(carol), carol.id), FIXED_NOW + timedelta(days=3)
        )
        assert status.standing == Standing.NOT_ELIGIBLE
        assert status.missing_days == [date(2030, 1, 16)]


def test_one_day_event_can_issue_on_the_day(app, make_event, make_user, person, register):
    organizer = make_user(Role.ORGANIZER)
    event = make_event(owner=organizer, starts_at=DAY1, ends_at=DAY1 + timedelta(hours=8))
    with app.app_context():
        db.session.add(CertificateSettings(event_id=event.id, enabled=True))
        db.session.commit()
    reg = register(event, person()).registration
    scan_in(app, event, reg, organizer, FIXED_NOW)
    assert len(issue(app, event, organizer)[0]) == 1  # 09.00, long before the scheduled end


def test_min_days_rule(app, two_days, person, register):
    event, organizer = two_days
    with app.app_context():
        settings = db.session.scalar(sa.select(CertificateSettings))
        settings.rule, settings.min_days = AttendanceRule.MIN_DAYS, 1
        db.session.commit()
    reg = register(event, person()).registration
    scan_in(app, event, reg, organizer, FIXED_NOW)
    assert len(issue(app, event, organizer)[0]) == 1


def test_numbers_follow_names_and_are_never_reused(app, two_days, person, register):
    event, organizer = two_days
    with app.app_context():
        settings = db.session.scalar(sa.select(CertificateSettings))
        settings.rule, settings.min_days = AttendanceRule.MIN_DAYS, 1
        db.session.commit()
    names = ["Zainal", "ahmad", "Budi", "Ir. H. Abdul Najib, MM"]
    regs = {n: register(event, person(name=n)).registration for n in names}
    for reg in regs.values():
        scan_in(app, event, reg, organizer, FIXED_NOW)
    issued = issue(app, event, organizer)[0]
    order = [next(n for n, r in regs.items() if r.id == rid) for _num, rid in issued]
    assert order == ["ahmad", "Budi", "Ir. H. Abdul Najib, MM", "Zainal"]
    assert [num.split("/")[0] for num, _ in issued] == ["001", "002", "003", "004"]
    # Revoke Budi's; re-issuing gives him 005, and 002 stays revoked.
    with app.app_context():
        cert = db.session.scalar(
            sa.select(Certificate).where(Certificate.registration_id == regs["Budi"].id)
        )
        with pytest.raises(ValidationError):
            certificates.revoke(cert, reason=" ", actor=organizer, now=FIXED_NOW)
        certificates.revoke(
            cert, reason="Salah nama", actor=db.session.get(User, organizer.id), now=FIXED_NOW
        )
        db.session.commit()
        with pytest.raises(DomainError):
            certificates.revoke(cert, reason="lagi", actor=organizer, now=FIXED_NOW)
    assert issue(app, event, organizer)[0] == [("005/SERT/BAPPEDA/I/2030", regs["Budi"].id)]
    with app.app_context():
        rows = db.session.execute(
            sa.select(Certificate.number, Certificate.revoked_at.is_(None)).order_by(
                Certificate.sequence
            )
        ).all()
        assert [(n.split("/")[0], v) for n, v in rows] == [
            ("001", True),
            ("002", False),
            ("003", True),
            ("004", True),
            ("005", True),
        ]


def test_disabled_event_issues_nothing(app, make_event, make_user):
    organizer = make_user(Role.ORGANIZER)
    event = make_event(owner=organizer)
    with app.app_context(), pytest.raises(DomainError) as info:
        certificates.issue_certificates(event.id, actor=organizer, now=FIXED_NOW)
    assert info.value.code == "certificates_disabled"


def test_waitlisted_and_cancelled_get_nothing(app, make_event, make_user, person, register):
    organizer = make_user(Role.ORGANIZER)
    event = make_event(
        owner=organizer, starts_at=DAY1, ends_at=DAY1 + timedelta(hours=8), capacity=1
    )
    with app.app_context():
        db.session.add(CertificateSettings(event_id=event.id, enabled=True))
        db.session.commit()
    register(event, person())
    waiting = register(event, person()).registration
    with app.app_context():
        status = certificates.status_for(db.session.get(type(waiting), waiting.id), FIXED_NOW)
        assert status.standing == Standing.NOT_CONFIRMED


def test_verify(app, two_days, person, register):
    event, organizer = two_days
    reg = register(event, person()).registration
    scan_in(app, event, reg, organizer, FIXED_NOW)
    scan_in(app, event, reg, organizer, FIXED_NOW + timedelta(days=1))
    issue(app, event, organizer, now=FIXED_NOW + timedelta(days=1))
    with app.app_context():
        cert = db.session.scalar(sa.select(Certificate))
        assert certificates.verify(cert.verification_code).id == cert.id
        assert len(cert.verification_code) >= 22  # 128 bits
        assert certificates.verify("tidak-ada") is None
        assert certificates.verify("x" * 500) is None


def test_logo_is_checked_by_content():
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(png, format="PNG")
    assert certificates.sniff_logo(png.getvalue()) == "image/png"
    with pytest.raises(ValidationError):
        certificates.sniff_logo(b"GIF89a" + b"\0" * 20)
    with pytest.raises(ValidationError):
        certificates.sniff_logo(b"\x89PNG\r\n\x1a\n" + b"broken")
    with pytest.raises(ValidationError):
        certificates.sniff_logo(b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024))
