"""Serialising writers on one event, on SQLite and on PostgreSQL.

PostgreSQL: ``SELECT … FOR UPDATE`` on the event row; concurrent writers for the same
event queue behind it. SQLite: the transaction starts with ``BEGIN IMMEDIATE`` (see
``configure_sqlite`` in the factory), taking the database's write lock up front, with
the connection's busy timeout to wait and a bounded retry when it still says "database
is locked".
"""

import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from workshop.extensions import request_connection, session_in_transaction
from workshop.models import Event, db

T = TypeVar("T")
ATTEMPTS = 5


def _is_locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig)


def deferred_reads(view):
    """Mark a view whose writes all go through ``run_locked`` or
    ``run_in_write_transaction`` (each its own BEGIN IMMEDIATE). On SQLite its requests
    then read in ordinary deferred transactions although the method writes, so that the
    write lock is held only for the writes: the door's scans, registrations, the login
    form (whose password check is slow). Put it right above ``def``, below the route and
    the other decorators (they copy the mark). See ``begins_immediate``."""
    view.sqlite_deferred_reads = True
    return view


def begins_immediate(method: str | None, view) -> bool:
    """Whether a SQLite transaction opened by this request should take the write lock at
    once. A deferred transaction that has read cannot write after another connection
    committed ("database is locked" at once, whatever the busy timeout), so every
    request that may write (any method but GET, HEAD and OPTIONS) begins its
    transactions with BEGIN IMMEDIATE, unless the view is marked ``deferred_reads``.
    GET views that write (the audit rows of exports) write through
    ``run_in_write_transaction``."""
    if method is None or method in ("GET", "HEAD", "OPTIONS"):
        return False
    return not getattr(view, "sqlite_deferred_reads", False)


def _is_sqlite(session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _begin_write(session, sqlite: bool) -> None:
    """Start the write transaction of ``session``.

    SQLite takes the write lock with BEGIN IMMEDIATE, which needs a new transaction: a
    transaction the request opened for its reads is ended first, in place on its
    connection (COMMIT, then BEGIN IMMEDIATE; anything pending is flushed before).
    That keeps what the request loaded, unexpired (reloading the user or the event would
    cost a SELECT each), and saves the Session a commit and a new transaction on the
    door's hottest path. Without such a transaction (or after a rollback) the new one
    simply begins IMMEDIATE. PostgreSQL needs no new transaction (row locks and
    constraints do the work, and READ COMMITTED reads fresh rows in every statement):
    the request's transaction goes on, which saves a commit and a connection checkout on
    every write.
    """
    if not sqlite:
        return
    if session.in_transaction() and not session.in_nested_transaction():
        session.flush()
        _take_write_lock(session.connection().connection.dbapi_connection)
    else:
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def _end_reads(session, sqlite: bool) -> None:
    """SQLite: end the request's read transaction and leave the connection in autocommit
    mode (see ``run_statements``). PostgreSQL: nothing."""
    if sqlite:
        session.flush()
        _end_transaction(session.connection().connection.dbapi_connection)


def _run(begin: Callable[[object, bool], None], work: Callable[[], T]) -> T:
    """``begin(session, sqlite)``, ``work()``, commit (see ``_retried``)."""
    session = db.session()  # the request's real Session behind the scoped proxy
    sqlite = _is_sqlite(session)

    def once() -> T:
        begin(session, sqlite)
        result = work()
        session.commit()
        return result

    return _retried(once, session.rollback)


def _retried(once: Callable[[], T], rollback: Callable[[], None]) -> T:
    """``once()``, rolled back on any error, and started again a few times when SQLite
    still says "database is locked" after its busy timeout."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return once()
        except BaseException as exc:
            rollback()
            if not isinstance(exc, OperationalError) or not _is_locked(exc) or attempt == ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def run_in_write_transaction(work: Callable[[], T]) -> T:
    """Run ``work()`` in its own write transaction and commit it.

    On SQLite the transaction starts with BEGIN IMMEDIATE, so that its reads and its write
    see one consistent state (a deferred read-then-write would fail with a stale WAL
    snapshot when another writer committed in between). On PostgreSQL it is an ordinary
    transaction; the unique constraints decide races.
    """
    return _run(_begin_write, work)


def run_on_connection(work: Callable[[sa.Connection], T]) -> T:
    """``run_in_write_transaction`` for Core statements: ``work(conn)`` on the request's
    connection (``request_connection``), committed, without a Session around it unless
    the request has one open (its transaction then goes on, as above) or ``work`` uses
    the ORM (the Session joins the connection's transaction and commits it, flushing
    what it holds). Rolled back on any error; "database is locked" is retried."""
    return _run_on_connection(_begin_write, _take_write_lock, work)


def run_statements(work: Callable[[sa.Connection], T]) -> T:
    """Run ``work(conn)``, whose every write is one self-sufficient statement (an
    ``INSERT … SELECT … ON CONFLICT DO NOTHING`` that checks and writes at once), on
    the request's connection as ``run_on_connection`` does, and commit.

    SQLite: the request's read transaction is ended and ``work``'s statements run in
    autocommit mode, each its own transaction, so that the database's one write lock is
    held while the INSERT executes and not across SQLAlchemy's bookkeeping around it.
    With four workers scanning at once, a write transaction around the insert kept the
    lock long enough that a quarter of the scans slept in SQLite's busy handler (a
    millisecond at least each time). The commit then finds nothing to commit.
    PostgreSQL: the request's transaction goes on and is committed.
    """
    return _run_on_connection(_end_reads, _end_transaction, work)


def _take_write_lock(driver) -> None:
    """SQLite: the write lock, in place: the request's read transaction (if any) is
    ended and BEGIN IMMEDIATE starts the next (see ``_begin_write``)."""
    _end_transaction(driver)
    driver.execute("BEGIN IMMEDIATE")


def _end_transaction(driver) -> None:
    """SQLite: end the driver's transaction, leaving it in autocommit mode."""
    if driver.in_transaction:
        driver.execute("COMMIT")


def _run_on_connection(session_begin, sqlite_begin, work: Callable[[sa.Connection], T]) -> T:
    if session_in_transaction():
        session = db.session()
        return _run(session_begin, lambda: work(session.connection()))

    conn = request_connection()

    def once() -> T:
        if not conn.in_transaction():  # after a rollback
            conn.begin()
        if conn.dialect.name == "sqlite":
            sqlite_begin(conn.connection.dbapi_connection)
        result = work(conn)
        # The ORM joined the connection's transaction if ``work`` used it: its commit
        # flushes what it holds, then commits the connection's.
        (db.session if session_in_transaction() else conn).commit()
        return result

    def rollback() -> None:
        (db.session if session_in_transaction() else conn).rollback()

    return _retried(once, rollback)


def run_locked(event_id: int, work: Callable[[Event | None], T]) -> T:
    """Run ``work(event)`` in its own transaction holding ``event_id``'s write lock and commit.

    On SQLite any transaction the session had open is committed first; on PostgreSQL it
    goes on (callers should have nothing pending either way). ``work`` receives None when
    the event does not exist. Exceptions from ``work`` roll back and propagate; "database
    is locked" is retried a few times.
    """

    def locked() -> T:
        event = db.session.scalar(
            db.select(Event)
            .where(Event.id == event_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return work(event)

    return _run(_begin_write, locked)
