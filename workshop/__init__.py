"""Workshop: events, registration, QR check-in and certificates for a regency government."""

import hmac
import time
from pathlib import Path

import sqlalchemy as sa
from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import event, exc
from werkzeug.middleware.proxy_fix import ProxyFix

from workshop import config, errors
from workshop.extensions import (
    babel,
    close_request_connection,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
)

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config.load_config(app, test_config)
    if proxies := int(app.config.get("PROXY_FIX") or 0):
        # Behind a reverse proxy: trust its X-Forwarded-* headers (client address, https).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.session_interface = SessionInterface()
    register_extensions(app)
    register_blueprints(app)
    errors.register(app)
    register_commands(app)
    register_mail_attachments()
    _track_requests_for_mail(app)
    register_template_helpers(app)
    register_security_headers(app)
    return app


def _track_requests_for_mail(app: Flask) -> None:
    from workshop.services import mail

    mail.track_requests(app)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except under /api/: the JSON API authenticates by
    bearer token only and never reads or sets the cookie (a browser signed in to the
    pages is anonymous there), so its requests do not decode one."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def select_locale() -> Locale:
    return _LOCALES[_locale_code()]


# Flask-Babel parses the selector's answer on every request (a file lookup each time)
# unless it is a Locale already.
_LOCALES = {code: Locale.parse(code) for code in config.DEFAULTS["LANGUAGES"]}


def _locale_code() -> str:
    languages = config.DEFAULTS["LANGUAGES"]
    if not has_request_context():  # CLI commands and background work
        return "id"
    # The API never signs anyone in from the session (bearer tokens only): no user to ask.
    if (
        request.blueprint != "api"
        and current_user
        and current_user.is_authenticated
        and current_user.locale in languages
    ):
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return "id"  # Bahasa Indonesia first, whatever the browser says


def register_extensions(app: Flask) -> None:
    from workshop import models
    from workshop.services import pipeline

    db.init_app(app)
    # The mappers are configured once, here, instead of by each server process on its
    # first query: a quarter of a second per gunicorn worker, a slow first answer after
    # every restart; with --preload the workers inherit them configured.
    sa.orm.configure_mappers()
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (the Session is
    # closed before the connection it may work on).
    app.teardown_appcontext(close_request_connection)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(ROOT / "translations"),
    )
    # Flask-Limiter's one instance keeps the default and application-wide limits of the
    # first app that configured any; each app made in this process (the tests make
    # many) starts from its own configuration instead.
    limiter.limit_manager.set_default_limits([])
    limiter.limit_manager.set_application_limits([])
    limiter.init_app(app)
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks and not any(
        app.config.get(key)
        for key in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")
    ):
        # Every limit of this app is a view decorator's, checked when its view runs;
        # Flask-Limiter's before-request pass looks for application-wide limits only, and
        # without any configured it found none, at a twentieth of a registration's cost.
        checks.remove(limiter._check_request_limit)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Silakan masuk untuk membuka halaman ini.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str):
        # "<id>:<stamp>" (User.get_id): a session from before the password changed is over.
        user_id, _, stamp = session_id.partition(":")
        if not user_id.isdigit() or not stamp:
            return None
        user = db.session.get(models.User, int(user_id))
        if user is None or not hmac.compare_digest(user.session_stamp, stamp):
            return None
        return user

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            resolve_psycopg_dumpers()
            event.listen(db.engine, "connect", use_generic_plans)
            pipeline.track(db.engine)
        if db.engine.dialect.name != "sqlite" and (
            app.config.get("DATABASE_PING_AFTER_IDLE") is not None
        ):
            ping_rested_connections(db.engine, app.config["DATABASE_PING_AFTER_IDLE"])


def configure_sqlite(engine) -> None:
    """WAL, a busy timeout and foreign keys on every connection; explicit BEGIN.

    pysqlite's own transaction handling defers BEGIN and cannot take the write lock up
    front; turning it off and emitting BEGIN ourselves (the SQLAlchemy recipe) lets a
    service ask for ``BEGIN IMMEDIATE`` when it must serialise writers.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin")
        if mode is None:
            mode = "IMMEDIATE" if _request_begins_immediate() else ""
        # Straight to the driver: a BEGIN needs none of SQLAlchemy's statement handling,
        # and every request runs one.
        connection.connection.dbapi_connection.execute(f"BEGIN {mode}".strip())


def resolve_psycopg_dumpers() -> None:
    """Look up psycopg's dumpers of the standard library's types once, now, in the one
    thread there is.

    psycopg registers them by name ("datetime.date") in a map every connection shares,
    and replaces the name with the class on the first lookup in a process by popping
    the name and then storing the class: a second thread looking in between finds
    neither and fails ("cannot adapt type 'date'"; reproduced with four threads). A
    benchmark answered one scan in 4,500 with that error, a 500."""
    import datetime
    import decimal
    import uuid

    import psycopg
    from psycopg.adapt import PyFormat

    for cls in (
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        decimal.Decimal,
        uuid.UUID,
    ):
        for format in PyFormat:
            psycopg.adapters.get_dumper(cls, format)


def use_generic_plans(dbapi_connection, _record) -> None:
    """On each new PostgreSQL connection: generic plans for the statements psycopg
    prepares (those a connection has run five times: the hot paths').

    PostgreSQL plans a prepared statement again for each execution while the plans made
    for the actual parameters look cheaper than its generic plan, as they always do for
    a LIMIT of 0: the registration's counts (a LIMIT by the capacity, 0 for an event
    without one) were planned anew every time, 480 microseconds of the server's CPU
    each, inside the event's lock. The hot statements look rows up by key through an
    index, which their generic plans do too."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    dbapi_connection.commit()


def ping_rested_connections(engine, after: float) -> None:
    """Test a pooled connection before use when it rested more than ``after`` seconds,
    and replace it if the server is gone.

    A database server may restart or drop idle connections; SQLAlchemy's
    ``pool_pre_ping`` tests every checkout, which costs every request a round trip to the
    server (a ninth of a registration's). A connection returned a moment ago by the
    previous request is as alive as a test would show."""

    @event.listens_for(engine.pool, "checkin")
    def rested_since(_dbapi_connection, record):
        if record is not None:
            record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def ping_if_rested(dbapi_connection, record, _proxy):
        # ``info`` belongs to this DBAPI connection: a new one starts without the mark.
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since <= after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool invalidates this connection and checks out a new one.
            raise exc.DisconnectionError(str(error)) from error


def _request_begins_immediate() -> bool:
    if not has_request_context():  # CLI commands, the mail sender thread
        return False
    from workshop.services.locking import begins_immediate

    return begins_immediate(request.method, current_app.view_functions.get(request.endpoint))


def register_blueprints(app: Flask) -> None:
    from workshop.admin.views import bp as admin_bp
    from workshop.api import bp as api_bp
    from workshop.auth.views import bp as auth_bp
    from workshop.certificates.views import bp as certificates_bp
    from workshop.checkin.views import bp as checkin_bp
    from workshop.organizer.registrations import bp as organizer_registrations_bp
    from workshop.organizer.views import bp as organizer_bp
    from workshop.public.views import bp as public_bp
    from workshop.registration.views import bp as registration_bp
    from workshop.reports.views import bp as reports_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(organizer_bp, url_prefix="/organizer")
    app.register_blueprint(organizer_registrations_bp, url_prefix="/organizer")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(checkin_bp, url_prefix="/checkin")
    app.register_blueprint(certificates_bp)  # /organizer/events/<id>/certificates…, /verify
    app.register_blueprint(reports_bp)  # /organizer/events/<id>/dashboard…, /admin/reports…
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # token-authenticated JSON only; no cookies are accepted there


def register_commands(app: Flask) -> None:
    from workshop.cli import register

    register(app)


def register_mail_attachments() -> None:
    """Features add their files (the e-ticket PDF) to outgoing mail; the outbox knows none."""
    from workshop.services.calendar import register_mail_attachments as calendar_attachments
    from workshop.services.tickets import register_mail_attachments as ticket_attachments

    ticket_attachments()
    calendar_attachments()  # the event's .ics beside the ticket


def register_template_helpers(app: Flask) -> None:
    from workshop.formatting import FILTERS

    app.jinja_env.filters.update(FILTERS)

    @app.context_processor
    def inject_globals():
        from flask_babel import get_locale

        return {
            "languages": app.config["LANGUAGES"],
            "current_locale": str(get_locale()),
            "organization_name": app.config["ORGANIZATION_NAME"],
        }


def register_security_headers(app: Flask) -> None:
    csp = (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
        "script-src 'self'; worker-src 'self' blob:; media-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )

    common = (
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    )
    api_headers = (*common, ("Cache-Control", "no-store"))
    page_header = ("Content-Security-Policy", csp)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        wanted = api_headers if request.path.startswith("/api/") else common
        if (headers.get("Content-Type") or "").startswith("text/html"):
            wanted = (*wanted, page_header)
        present = {key.lower() for key, _value in headers.items()}
        for key, value in wanted:
            if key.lower() not in present:  # a view's own value wins
                headers.add(key, value)
        return response
