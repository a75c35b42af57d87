"""Bare extension instances, initialised in create_app(). Imports nothing from workshop."""

import threading
import time
from typing import ClassVar

import sqlalchemy as sa
from flask import g
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints from day one so that migrations can alter and drop them.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Session(FlaskSession):
    """``db.session``, on the request's connection once the request has one.

    The hottest requests (an API token's lookup, a registration, a scan at the door) run
    their Core statements on a connection of the request's own, ``request_connection()``,
    without a Session around them: the Session's transaction, its commit and its close
    cost a worker about as much CPU as the statements (measured on PostgreSQL: a lookup
    and a commit took 0.36 ms with the Session, 0.19 ms without, in-process). When
    such a request goes on to use the ORM, the Session works on that same connection and
    in its transaction (``join_transaction_mode="control_fully"``: its commit and its
    rollback are the connection's), so a request never holds two connections and
    everything it writes commits together."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        conn = g.get(_REQUEST_CONNECTION)
        if conn is not None and conn.engine is engine:
            return conn
        return engine


db = SQLAlchemy(
    model_class=Base, session_options={"class_": Session, "join_transaction_mode": "control_fully"}
)
_REQUEST_CONNECTION = "_workshop_connection"


def request_connection() -> sa.Connection:
    """The connection the request's Core statements run on, in a transaction.

    While the Session has a transaction open, that is the Session's connection (what it
    has read and written stays in view, and commits with it). Otherwise the request
    checks a connection out of the pool for itself, on first use, and keeps it until
    its end (``close_request_connection``); the Session then joins it."""
    conn = g.get(_REQUEST_CONNECTION)
    if conn is None:
        if session_in_transaction():
            return db.session.connection()
        conn = db.engine.connect()
        setattr(g, _REQUEST_CONNECTION, conn)
    if not conn.in_transaction():
        conn.begin()
    return conn


def session_in_transaction() -> bool:
    """Whether the request's Session has a transaction open (without making a Session)."""
    return db.session.registry.has() and db.session().in_transaction()


def close_request_connection(_exc=None) -> None:
    """Teardown: give the request's connection back to the pool (rolled back if anything
    was left uncommitted), after closing the Session that may work on it."""
    conn = g.pop(_REQUEST_CONNECTION, None)
    if conn is not None:
        db.session.remove()
        conn.close()


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


class SweepingMemoryStorage(MemoryStorage):
    """The limits library's in-process storage (``memory://``) without its timer thread.

    ``MemoryStorage`` starts a new thread 10 ms after every hit to drop expired counters,
    unless one is still pending; a server answering a request every few milliseconds per
    process started a thread for almost every request and waited for it to start (8% of
    a registration's time under load). Every read already drops its own expired counter;
    here the sweep for counters nobody reads again runs in the calling thread, at most
    once a second. The default storage (``RATELIMIT_STORAGE_URI``:
    ``sweeping-memory://``); ``redis://…`` for several servers."""

    STORAGE_SCHEME: ClassVar[list[str]] = ["sweeping-memory"]
    SWEEP_EVERY = 1.0  # seconds

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # overrides the private scheduler
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.SWEEP_EVERY
            self._MemoryStorage__expire_events()
        finally:
            self._sweep_lock.release()
