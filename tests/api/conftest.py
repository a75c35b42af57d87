"""Fixtures for the JSON API tests: bearer tokens, row counts and a valid event body."""

import pytest
import sqlalchemy as sa

from workshop.extensions import db
from workshop.models import (
    AgendaItem,
    ApiToken,
    AuditLog,
    Event,
    EventDay,
    Role,
    Speaker,
    User,
)
from workshop.services.users import issue_token


@pytest.fixture
def make_token(app):
    """A plain API token for ``user`` (only its hash is stored)."""

    def make(user) -> str:
        with app.app_context():
            token = issue_token(db.session.merge(user))
            db.session.commit()
        return token

    return make


@pytest.fixture
def bearer(make_token):
    """Request headers that authenticate as ``user`` (None: anonymous, no header)."""

    def headers(user) -> dict:
        return {} if user is None else {"Authorization": f"Bearer {make_token(user)}"}

    return headers


@pytest.fixture
def token_user(app):
    """A user who only ever uses the API: no password hashing, so tables stay fast."""
    counter = iter(range(1, 10_000))

    def make(role: Role) -> User:
        n = next(counter)
        user = User(
            email=f"api-{role}{n}@example.com",
            name=f"API {role} {n}",
            role=role,
            password_hash="!unusable",
        )
        with app.app_context():
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
        return user

    return make


@pytest.fixture
def actors(token_user):
    """One user per role in the permission tables; "owner" owns the events under test."""
    return {
        "admin": token_user(Role.ADMIN),
        "owner": token_user(Role.ORGANIZER),
        "other_organizer": token_user(Role.ORGANIZER),
        "staff": token_user(Role.STAFF),
        "participant": token_user(Role.PARTICIPANT),
        "anonymous": None,
    }


@pytest.fixture
def count_rows(app):
    """Row counts of everything an event write touches (to prove nothing was stored)."""

    def count() -> dict:
        with app.app_context():
            return {
                model.__tablename__: db.session.scalar(
                    sa.select(sa.func.count()).select_from(model)
                )
                for model in (Event, EventDay, Speaker, AgendaItem, AuditLog, ApiToken)
            }

    return count


@pytest.fixture
def event_body():
    """A valid POST body: a two-day workshop ten days after FIXED_NOW, times in WIB."""

    def body(**changes) -> dict:
        data = {
            "title": "Workshop Inovasi Pelayanan Publik",
            "venue": "Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim",
            "starts_at": "2030-01-25T08:00:00+07:00",
            "ends_at": "2030-01-26T16:00:00+07:00",
        }
        data.update(changes)
        return data

    return body


@pytest.fixture
def load_event(app):
    """The stored event (days, speakers and agenda loaded), read outside any request."""

    def load(event_id: int) -> Event | None:
        with app.app_context():
            event = db.session.get(Event, event_id)
            if event is not None:
                _ = (event.days, event.speakers, event.agenda)
            db.session.expunge_all()
        return event

    return load


@pytest.fixture
def connection_use(app):
    """What the requests made meanwhile asked of the database layer: ``checkouts`` (one
    per connection taken from the pool) and ``sessions`` (one per transaction of the ORM
    Session)."""
    with app.app_context():
        engine = db.engine
    seen = {"checkouts": 0, "sessions": 0}

    def checkout(_dbapi_connection, _record, _proxy):
        seen["checkouts"] += 1

    def session_began(_session, _transaction, _connection):
        seen["sessions"] += 1

    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(sa.orm.Session, "after_begin", session_began)
    yield seen
    sa.event.remove(engine, "checkout", checkout)
    sa.event.remove(sa.orm.Session, "after_begin", session_began)
