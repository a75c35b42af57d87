"""The application factory and configuration."""

from workshop import create_app
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

    base = {"SECRET_KEY": "x", "RATELIMIT_ENABLED": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    plain = create_app(base)
    assert limiter._check_request_limit not in plain.before_request_funcs[None]
    with_default = create_app({**base, "RATELIMIT_DEFAULT": "100 per minute"})
    assert limiter._check_request_limit in with_default.before_request_funcs[None]
