"""The application factory and configuration."""

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from workshop import create_app, use_generic_plans
from workshop.config import normalise_database_url


def test_config_from_test_mapping(app):
    assert app.testing
    assert app.config["BABEL_DEFAULT_LOCALE"] == "id"
    assert app.config["SECRET_KEY"] == "test-secret"


def test_default_is_sqlite_in_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/workshop.sqlite3")
    assert len(app.config["SECRET_KEY"]) >= 32


def test_database_url_env_selects_postgres(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/ws")
    monkeypatch.setenv("WORKSHOP_LOGIN_RATE_LIMIT", "5 per minute")
    monkeypatch.setenv("WORKSHOP_MAX_CONTENT_LENGTH", "1024")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/ws"
    assert app.config["LOGIN_RATE_LIMIT"] == "5 per minute"
    assert app.config["MAX_CONTENT_LENGTH"] == 1024


def test_a_database_server_connection_is_tested_only_after_a_rest(monkeypatch):
    """PostgreSQL's pool tests a connection that rested (see the next test) instead of
    SQLAlchemy's pool_pre_ping, which tests every checkout; SQLite's pool tests none."""
    from workshop.extensions import db

    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/ws")  # never connected
    app = create_app()
    with app.app_context():
        assert not db.engine.pool._pre_ping
        assert len(db.engine.pool.dispatch.checkout) == 1
        assert sa.event.contains(db.engine, "connect", use_generic_plans)
        db.engine.dispose()
    monkeypatch.delenv("DATABASE_URL")
    app = create_app()
    with app.app_context():
        assert len(db.engine.pool.dispatch.checkout) == 0
        assert not sa.event.contains(db.engine, "connect", use_generic_plans)
        db.engine.dispose()


def test_psycopg_finds_the_dumpers_of_dates_before_any_thread_looks(monkeypatch):
    """psycopg replaces a dumper registered by its type's name with the type on the
    first lookup, in two steps a second thread can fall between ("cannot adapt type
    'date'", a 500): an app for PostgreSQL does all those lookups when it is made."""
    import datetime
    import decimal
    import uuid

    import psycopg
    from psycopg.adapt import PyFormat

    types = (
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        decimal.Decimal,
        uuid.UUID,
    )

    def by_name(cls) -> str:
        return f"{cls.__module__}.{cls.__qualname__}"

    for format in PyFormat:  # as in a new process: registered by name only
        dmap = psycopg.adapters._dumpers[format]
        for cls in types:
            if cls in dmap:
                monkeypatch.setitem(dmap, by_name(cls), dmap[cls])
                monkeypatch.delitem(dmap, cls)
    assert "datetime.date" in psycopg.adapters._dumpers[PyFormat.AUTO]
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/ws")  # never connected
    create_app()
    for format in PyFormat:
        dmap = psycopg.adapters._dumpers[format]
        assert [cls for cls in types if cls not in dmap or by_name(cls) in dmap] == []


def test_postgresql_plans_a_prepared_statement_once(app):
    """The suite's database: on PostgreSQL each connection of the app uses the generic
    plan of a prepared statement instead of planning it for every execution's values
    (see ``use_generic_plans``); SQLite has no such setting."""
    from workshop.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            assert db.session.scalar(sa.text("SHOW plan_cache_mode")) == "force_generic_plan"
        else:
            assert not sa.event.contains(db.engine, "connect", use_generic_plans)


def test_rested_pooled_connections_are_tested_and_replaced_when_dropped(database_url, monkeypatch):
    """On the run's database (the rule itself does not depend on it): a connection
    returned a moment ago is used as it is; one that rested longer than the limit is
    tested first, and when the test fails (here: the connection was closed under the
    pool, as a server restart would) a new one is used and the request goes on."""
    import time

    from workshop import ping_rested_connections

    engine = sa.create_engine(database_url, poolclass=sa.pool.QueuePool)
    ping_rested_connections(engine, after=0.2)
    tested = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(
        engine.dialect,
        "do_ping",
        lambda connection: tested.append(connection) or real_ping(connection),
    )

    def use():
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT 1")) == 1
            return conn.connection.dbapi_connection

    try:
        first = use()
        assert use() is first and use() is first
        assert tested == []  # each time back in the pool a moment before
        time.sleep(0.3)
        assert use() is first
        assert tested == [first]
        time.sleep(0.3)
        first.close()  # dropped while it rested in the pool
        replacement = use()
        assert replacement is not first
        assert tested == [first, first]
        assert use() is replacement and len(tested) == 2
    finally:
        engine.dispose()


def test_normalise_database_url_keeps_other_urls():
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalise_database_url("postgresql://h/db") == "postgresql+psycopg://h/db"


def test_security_headers(client):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_proxy_fix_uses_forwarded_client_address(database_url):
    from tests.conftest import base_config

    app = create_app({**base_config(database_url), "PROXY_FIX": 1})

    @app.get("/_addr")
    def addr():
        from flask import request

        return request.remote_addr

    response = app.test_client().get("/_addr", headers={"X-Forwarded-For": "10.1.2.3"})
    assert response.get_data(as_text=True) == "10.1.2.3"


def test_rate_limits_count_in_process_without_a_thread_per_request(monkeypatch):
    """The default limiter storage counts like limits' memory storage, but never starts a
    timer thread (which ``memory://`` did after almost every request); counters nobody
    reads again are swept by a later hit."""
    import threading

    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    from workshop.config import DEFAULTS
    from workshop.extensions import SweepingMemoryStorage

    storage = storage_from_string(DEFAULTS["RATELIMIT_STORAGE_URI"])
    assert isinstance(storage, SweepingMemoryStorage)
    limiter = FixedWindowRateLimiter(storage)
    two = parse("2 per minute")
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    assert [limiter.hit(two, "client-a") for _ in range(3)] == [True, True, False]
    assert limiter.hit(two, "client-b")
    assert started == []

    # A counter whose window has passed is dropped by the next sweep, not kept forever.
    clock = [1_000_000.0]
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: clock[0])
    monkeypatch.setattr("workshop.extensions.time.monotonic", lambda: clock[0])
    limiter.hit(two, "client-c")
    clock[0] += 120
    limiter.hit(two, "client-d")
    assert not any("client-c" in key for key in storage.storage)
    assert any("client-d" in key for key in storage.storage)
    assert started == []


def test_flask_limiter_checks_every_request_only_for_application_wide_limits(tmp_path):
    """The app's limits are its views' decorators (tested where they apply); Flask-Limiter's
    before-request pass, which looks for application-wide limits, is installed only when
    some are configured (tests/api/test_checkins_api.py holds one)."""
    from workshop.extensions import limiter

    base = {
        "SECRET_KEY": "x",
        "RATELIMIT_ENABLED": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    plain = create_app(base)
    assert limiter._check_request_limit not in plain.before_request_funcs[None]
    with_default = create_app({**base, "RATELIMIT_DEFAULT": "100 per minute"})
    assert limiter._check_request_limit in with_default.before_request_funcs[None]


def test_an_app_does_not_inherit_another_apps_default_limits(tmp_path):
    """Flask-Limiter has one instance for the process: an app made after one with a
    default limit (the tests make many) must not keep that limit."""
    base = {
        "SECRET_KEY": "x",
        "RATELIMIT_ENABLED": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    limited = create_app({**base, "RATELIMIT_DEFAULT": "2 per minute"})
    with limited.test_client() as client:
        assert [client.get("/auth/login").status_code for _ in range(3)][-1] == 429
    plain = create_app(base)
    with plain.test_client() as client:
        assert [client.get("/auth/login").status_code for _ in range(3)] == [200] * 3


def test_the_app_is_made_with_its_mappers_configured(tmp_path):
    """gunicorn's workers inherit the preloaded app: its mappers are configured when it is
    made, not by each worker's first query. A fresh interpreter, since configuring is
    process-wide and the suite's earlier apps have done it here."""
    script = (
        "import sqlalchemy as sa\n"
        "from workshop import create_app\n"
        "from workshop.models import Registration\n"
        f"create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/m.db',"
        " 'SECRET_KEY': 'x'})\n"
        "print(sa.inspect(Registration).configured)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert out.stdout.strip().splitlines()[-1] == "True", out.stdout + out.stderr
