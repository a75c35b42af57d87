"""Fixtures: the flaskr trio (app, client, runner) plus factories and a login helper.

The suite runs on SQLite by default. Set WORKSHOP_TEST_DATABASE_URL to a PostgreSQL
URL to run the same tests there (`.ci/run` does both); if that server cannot be
reached the run fails rather than skipping.
"""

import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from workshop import create_app
from workshop.config import normalise_database_url
from workshop.extensions import db
from workshop.models import Base, Event, EventStatus, Role, Unit, UnitKind, User
from workshop.services.events import EventInput, SpeakerInput, create_event
from workshop.timeutil import WIB

PASSWORD = "rahasia-123"
# Tuesday 15 January 2030, 09.00 WIB: "now" for every test unless a test says otherwise.
FIXED_NOW = datetime(2030, 1, 15, 2, 0, tzinfo=UTC)

PG_URL = os.environ.get("WORKSHOP_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def worker_id(request) -> str:
    """pytest-xdist's worker name ("gw0", …), or "master" when running in one process."""
    return getattr(request.config, "workerinput", {}).get("workerid", "master")


def is_postgres() -> bool:
    return bool(PG_URL)


def worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (made if missing)."""
    if worker in ("", "master"):
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    server = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id):
    """A migrated, empty database for the whole run (schema built once, rows wiped per test)."""
    if PG_URL:
        url = worker_database(normalise_database_url(PG_URL), worker_id)
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        except sa.exc.OperationalError as exc:  # pragma: no cover - environment problem
            pytest.exit(f"PostgreSQL at WORKSHOP_TEST_DATABASE_URL unreachable: {exc}", 2)
        finally:
            engine.dispose()
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    app = create_app(base_config(url))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def base_config(url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # Mail is delivered in the request, so that a test sees it at once; the background
        # sender and the outbox-only mode have tests of their own (tests/services/test_mail.py).
        "MAIL_DELIVERY": "inline",
        "FIXED_NOW": FIXED_NOW,
        "SERVER_NAME": "workshop.test",
    }


@pytest.fixture
def app_config(database_url):
    """Override entries in a test module with its own fixture to change the config."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    app = create_app({**base_config(database_url), **app_config})
    yield app
    with app.app_context():
        db.session.remove()
        wipe(db.engine)
        db.engine.dispose()


def wipe(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for table in Base.metadata.sorted_tables[::-1]:
                conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories -------------------------------------------------------------


def _saved(app, obj):
    """Commit ``obj`` and return it with its columns loaded (usable after the context)."""
    with app.app_context():
        db.session.add(obj)
        db.session.commit()
        db.session.refresh(obj)
        db.session.expunge(obj)
    return obj


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def make(
        role: Role = Role.PARTICIPANT,
        email: str | None = None,
        name: str | None = None,
        password: str = PASSWORD,
        **fields,
    ) -> User:
        n = next(counter)
        user = User(
            email=email or f"{role}{n}@example.com",
            name=name or f"{role.title()} {n}",
            role=role,
            **fields,
        )
        # A cheap hash keeps the suite fast; the app's own hashing is tested in test_models.
        user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
        return _saved(app, user)

    return make


@pytest.fixture
def make_unit(app):
    counter = iter(range(1, 10_000))

    def make(
        name: str | None = None,
        short_name: str | None = None,
        active: bool = True,
        kind: UnitKind = UnitKind.OFFICE,
    ) -> Unit:
        n = next(counter)
        return _saved(
            app,
            Unit(
                name=name or f"Dinas Contoh {n}",
                short_name=short_name or f"DC{n}",
                kind=kind,
                active=active,
            ),
        )

    return make


def wib(y, m, d, hh=8, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


@pytest.fixture
def make_event(app, make_user):
    """An event owned by ``owner`` (a new organizer if omitted); 10 days after FIXED_NOW."""

    def make(
        owner: User | None = None, status: EventStatus = EventStatus.PUBLISHED, **fields
    ) -> Event:
        owner = owner or make_user(Role.ORGANIZER)
        default_start = FIXED_NOW.astimezone(WIB).replace(hour=8) + timedelta(days=10)
        start = fields.pop("starts_at", default_start)
        data = EventInput(
            title=fields.pop("title", "Workshop Inovasi Pelayanan Publik"),
            venue=fields.pop("venue", "Ruang Rapat Pangripta, Bappeda"),
            starts_at=start,
            ends_at=fields.pop("ends_at", start + timedelta(hours=8)),
            speakers=fields.pop("speakers", [SpeakerInput("Elke Rapp", "GIZ")]),
            **fields,
        )
        with app.app_context():
            event = create_event(db.session.merge(owner), data)
            event.status = status
            db.session.commit()
            event_id = event.id
        with app.app_context():
            event = db.session.get(Event, event_id)
            _ = (event.days, event.speakers, event.agenda, event.owner)
            db.session.expunge_all()
        return event

    return make


@pytest.fixture
def login(client):
    """Log ``user`` in through the real login form; returns the response."""

    def do_login(user: User, password: str = PASSWORD):
        response = client.post("/auth/login", data={"email": user.email, "password": password})
        assert response.status_code in (302, 303), "login failed for the test user"
        return response

    return do_login


@pytest.fixture
def person():
    """Registration input for a valid PNS; override fields with keyword arguments."""
    from workshop.services.registration_input import RegistrationInput

    counter = iter(range(1, 100_000))

    def make(unit=None, **fields) -> RegistrationInput:
        n = next(counter)
        values = {
            "name": f"Peserta {n}",
            "email": f"peserta{n}@example.com",
            "employment_status": "non_asn",
            "phone": "0812-3456-7890",
            "position": "Analis Kebijakan",
            "unit_id": unit.id if unit is not None else None,
            "institution": "" if unit is not None else "Pemerintah Kota Bandung",
        }
        values.update(fields)
        return RegistrationInput(**values)

    return make


@pytest.fixture
def register(app):
    """Register through the service (as the organizer, ignoring the window by default)."""
    from workshop.services import registration

    def do(event, data, by_organizer=True, now=FIXED_NOW, **kwargs):
        with app.app_context():
            outcome = registration.register(
                event.id, data, now=now, by_organizer=by_organizer, **kwargs
            )
            reg = outcome.registration
            db.session.refresh(reg)
            outcome.position = outcome.waitlist_position
            db.session.expunge_all()
            return outcome

    return do
