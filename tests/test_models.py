"""Models: constraints in the database, timezone-aware datetimes, password hashing."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from workshop.extensions import db
from workshop.models import ApiToken, Event, EventDay, Role, Unit, User
from workshop.timeutil import WIB


def test_datetimes_come_back_aware_in_utc(app, make_event):
    start = datetime(2018, 3, 8, 8, 0, tzinfo=WIB)
    event = make_event(starts_at=start, ends_at=start + timedelta(hours=8))
    with app.app_context():
        loaded = db.session.get(Event, event.id)
        assert loaded.starts_at.tzinfo is not None
        assert loaded.starts_at.utcoffset() == timedelta(0)
        assert loaded.starts_at == datetime(2018, 3, 8, 1, 0, tzinfo=UTC)
        assert loaded.created_at.tzinfo is not None


def test_naive_datetime_is_refused(app, make_user):
    owner = make_user(Role.ORGANIZER)
    with app.app_context():
        event = Event(
            title="x",
            venue="y",
            owner_id=owner.id,
            starts_at=datetime(2030, 1, 1, 8),
            ends_at=datetime(2030, 1, 1, 9),
        )
        db.session.add(event)
        with pytest.raises(sa.exc.StatementError):
            db.session.flush()


def test_other_offsets_are_stored_as_the_same_instant(app, make_user):
    owner = make_user(Role.ORGANIZER)
    cest = timezone(timedelta(hours=2))
    with app.app_context():
        event = Event(
            title="x",
            venue="y",
            owner_id=owner.id,
            starts_at=datetime(2030, 1, 1, 3, tzinfo=cest),
            ends_at=datetime(2030, 1, 1, 9, tzinfo=cest),
        )
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    with app.app_context():
        assert db.session.get(Event, event_id).starts_at == datetime(2030, 1, 1, 1, tzinfo=UTC)


def test_event_end_must_follow_start_in_the_database(app, make_user):
    owner = make_user(Role.ORGANIZER)
    at = datetime(2030, 1, 1, 8, tzinfo=UTC)
    with app.app_context():
        db.session.add(Event(title="x", venue="y", owner_id=owner.id, starts_at=at, ends_at=at))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()


def test_capacity_must_be_positive_in_the_database(app, make_user):
    owner = make_user(Role.ORGANIZER)
    at = datetime(2030, 1, 1, 8, tzinfo=UTC)
    with app.app_context():
        db.session.add(
            Event(
                title="x",
                venue="y",
                owner_id=owner.id,
                starts_at=at,
                ends_at=at + timedelta(hours=1),
                capacity=0,
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()


def test_event_day_is_unique_per_event(app, make_event):
    event = make_event()
    with app.app_context():
        db.session.add(EventDay(event_id=event.id, date=event.days[0].date))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()


def test_unit_short_name_is_unique(app, make_unit):
    make_unit(short_name="Bappeda")
    with app.app_context():
        db.session.add(Unit(name="Another", short_name="Bappeda"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()


def test_user_email_unique_and_password_hashed(app, make_user):
    user = make_user(email="najib@example.com", password="rahasia-123")
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert "rahasia-123" not in user.password_hash
    assert user.check_password("rahasia-123")
    assert not user.check_password("salah")
    with app.app_context():
        db.session.add(User(email="najib@example.com", name="x", password_hash="x"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()


def test_api_token_stores_only_a_hash(app, make_user):
    user = make_user()
    with app.app_context():
        row, plain = ApiToken.issue(db.session.merge(user))
        db.session.add(row)
        db.session.commit()
        stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert plain not in stored
    assert ApiToken.hash(plain) in stored
    assert len(plain) >= 40


def test_deleting_an_event_removes_its_days(app, make_event):
    event = make_event(
        starts_at=datetime(2030, 2, 1, 8, tzinfo=WIB), ends_at=datetime(2030, 2, 3, 16, tzinfo=WIB)
    )
    assert [d.date for d in event.days] == [date(2030, 2, 1), date(2030, 2, 2), date(2030, 2, 3)]
    with app.app_context():
        db.session.delete(db.session.get(Event, event.id))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(EventDay.id))) == 0
