"""The demo data: the reference workshop exactly, the regency's units, idempotence."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from workshop.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from workshop.extensions import db
from workshop.models import Base, Event, EventStatus, Role, Unit, UnitKind, User
from workshop.timeutil import WIB, to_wib

TODAY = date(2030, 1, 15)


def snapshot():
    """Every row of every table, without volatile timestamps."""
    rows = {}
    for table in Base.metadata.sorted_tables:
        cols = [c for c in table.columns if c.name not in ("created_at", "updated_at", "at")]
        rows[table.name] = sorted(
            tuple(str(v) for v in r) for r in db.session.execute(sa.select(*cols))
        )
    return rows


def test_demo_twice_leaves_the_same_rows(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        first = snapshot()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert snapshot() == first
        assert first["event"]  # something was loaded


def test_demo_if_empty_leaves_existing_data_alone(app, runner, make_event):
    make_event(title="Rapat koordinasi")
    result = runner.invoke(args=["demo", "--if-empty"])
    assert "not loaded" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 1


def test_reference_event_is_exact(app):
    with app.app_context():
        load_demo(today=TODAY)
        db.session.commit()
        event = db.session.scalar(
            sa.select(Event).where(Event.title == "Workshop Inovasi Pelayanan Publik")
        )
        assert event.status == EventStatus.PUBLISHED
        assert to_wib(event.starts_at).date() == date(2018, 3, 8)  # Thursday
        assert to_wib(event.starts_at).strftime("%A") == "Thursday"
        assert [d.date for d in event.days] == [date(2018, 3, 8), date(2018, 3, 9)]
        assert "Pangripta" in event.venue and "Bappeda Kabupaten Muara Enim" in event.venue
        assert [s.name for s in event.speakers] == ["Elke Rapp", "Hertian Silawati", "Dina Limanto"]
        assert all("GIZ" in s.affiliation for s in event.speakers)
        assert "Ir. H. Abdul Najib, MM" in event.description
        assert "Ibrahim Iliyas" in event.description
        assert "SINOVIK" in event.description and "KIPP" in event.description
        assert event.unit.short_name == "Bag. Organisasi"
        assert len(event.agenda) >= 6


def test_demo_units_are_the_regencys_list(app):
    with app.app_context():
        load_demo(today=TODAY)
        units = {u.short_name: u for u in db.session.scalars(sa.select(Unit))}
    assert len(units) >= 30
    for short in (
        "Setda",
        "Inspektorat",
        "Bappeda",
        "Diskominfo",
        "Dinkes",
        "BKPSDM",
        "Kec. Muara Enim",
        "Kec. Gelumbang",
    ):
        assert short in units
    kinds = {u.kind for u in units.values()}
    assert {
        UnitKind.SECRETARIAT,
        UnitKind.INSPECTORATE,
        UnitKind.AGENCY,
        UnitKind.OFFICE,
        UnitKind.DISTRICT,
    } <= kinds
    assert sum(1 for u in units.values() if u.kind == UnitKind.DISTRICT) == 20


def test_demo_has_events_today_and_in_the_future_and_users_for_each_role(app):
    with app.app_context():
        load_demo(today=TODAY)
        db.session.commit()
        events = db.session.scalars(
            sa.select(Event).where(Event.status == EventStatus.PUBLISHED)
        ).all()
        starts = {to_wib(e.starts_at).date() for e in events}
        assert TODAY in starts
        assert any(d > TODAY for d in starts)
        roles = {u.role for u in db.session.scalars(sa.select(User))}
        assert roles == set(Role)
        for email, _name, _role in DEMO_USERS:
            user = db.session.scalar(sa.select(User).where(User.email == email))
            assert user.check_password(DEMO_PASSWORD)
        today_event = next(e for e in events if to_wib(e.starts_at).date() == TODAY)
        now = datetime.combine(TODAY, datetime.min.time(), tzinfo=WIB).replace(hour=9)
        assert today_event.starts_at <= now.astimezone(UTC) < today_event.ends_at
        assert today_event.registration_opens_at < now < today_event.ends_at + timedelta(0)


def test_reference_workshop_has_attendance_and_certificates(app):
    from workshop.models import Certificate, Checkin

    with app.app_context():
        load_demo(today=TODAY)
        db.session.commit()
        event = db.session.scalar(
            sa.select(Event).where(Event.title == "Workshop Inovasi Pelayanan Publik")
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Checkin.id)).where(Checkin.event_id == event.id)
            )
            > 20
        )
        numbers = db.session.scalars(
            sa.select(Certificate.number)
            .where(Certificate.event_id == event.id)
            .order_by(Certificate.sequence)
        ).all()
        assert numbers[0] == "001/SERT/BAPPEDA/III/2018"
        assert len(numbers) >= 10
