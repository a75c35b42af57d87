"""Configuration: defaults here, then instance/config.py, then environment variables.

Environment variables: ``DATABASE_URL``, ``SECRET_KEY`` and any ``WORKSHOP_<NAME>``
(for example ``WORKSHOP_RATELIMIT_STORAGE_URI``); values are parsed as JSON when
they look like JSON (numbers, true/false), else kept as strings.
"""

import json
import os
import secrets
from pathlib import Path

DEFAULTS = {
    "BABEL_DEFAULT_LOCALE": "id",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
    "LANGUAGES": {"id": "Bahasa Indonesia", "en": "English"},
    "DISPLAY_TIMEZONE": "Asia/Jakarta",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
    "RATELIMIT_STORAGE_URI": "sweeping-memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute",
    "ORGANIZATION_NAME": "Pemerintah Kabupaten Muara Enim",
    # PostgreSQL: a pooled connection that rested longer than this (seconds) is tested
    # before use, and replaced when the server dropped it; None: never tested.
    "DATABASE_PING_AFTER_IDLE": 1.0,
}


def _parse(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value


def load_config(app, test_config: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(
        Path(app.instance_path) / "workshop.sqlite3"
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        if url := os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
        if key := os.environ.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = key
        app.config.from_prefixed_env("WORKSHOP", loads=_parse)
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret_key(instance: Path) -> str:
    """A random key kept in instance/secret_key, made once, so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
