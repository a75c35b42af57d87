"""``run_on_connection``: Core statements on the request's own connection, in a write
transaction that the ORM joins when the work uses it (one commit, or one rollback, for
both), retried when SQLite says "database is locked"."""

import sqlite3

import pytest
import sqlalchemy as sa

from workshop.extensions import db, request_connection
from workshop.models import AuditLog
from workshop.services import audit
from workshop.services.locking import run_on_connection


def core_row(conn, action: str) -> None:
    conn.execute(sa.insert(AuditLog), audit.row(None, action, "test"))


def actions(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditLog.action).where(AuditLog.object_type == "test").order_by(AuditLog.id)
        ).all()


def test_core_and_orm_writes_commit_together(app):
    with app.app_context():

        def work(conn):
            core_row(conn, "core")
            db.session.add(AuditLog(action="orm", object_type="test"))
            return "done"

        assert run_on_connection(work) == "done"
        assert db.session.connection() is request_connection()  # the ORM joined it
    assert actions(app) == ["core", "orm"]


def test_an_error_after_both_writes_leaves_neither(app):
    with app.app_context():

        def work(conn):
            core_row(conn, "core")
            db.session.add(AuditLog(action="orm", object_type="test"))
            db.session.flush()
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            run_on_connection(work)
        run_on_connection(lambda conn: core_row(conn, "after"))  # the connection goes on
    assert actions(app) == ["after"]


def test_database_is_locked_is_retried_from_a_fresh_transaction(app):
    """The first attempt wrote a row and then found the database locked (as SQLite says
    after its busy timeout): rolled back, tried again, and only the second attempt's row
    is kept."""
    attempts = []

    def work(conn):
        attempts.append(1)
        core_row(conn, f"attempt {len(attempts)}")
        if len(attempts) == 1:
            raise sa.exc.OperationalError(
                "INSERT …", None, sqlite3.OperationalError("database is locked")
            )
        return len(attempts)

    with app.app_context():
        assert run_on_connection(work) == 2
    assert actions(app) == ["attempt 2"]


def test_other_operational_errors_are_not_retried(app):
    attempts = []

    def work(conn):
        attempts.append(1)
        raise sa.exc.OperationalError("SELECT …", None, sqlite3.OperationalError("disk I/O error"))

    with app.app_context(), pytest.raises(sa.exc.OperationalError):
        run_on_connection(work)
    assert attempts == [1]


def test_an_open_session_transaction_goes_on_and_commits_with_the_work(app):
    """The Session had a transaction open (it read, and holds a change not yet flushed):
    the work runs on the Session's connection and its commit takes the change along."""
    with app.app_context():
        db.session.add(AuditLog(action="pending", object_type="test"))
        assert db.session().in_transaction()
        session_conn = db.session.connection()
        seen = []

        def work(conn):
            seen.append(conn)
            core_row(conn, "core")

        run_on_connection(work)
        assert seen == [session_conn]
    assert sorted(actions(app)) == ["core", "pending"]


def test_the_connection_goes_back_to_the_pool_at_the_end_of_the_context(app):
    with app.app_context():
        pool = db.engine.pool
        before = pool.checkedout()
        run_on_connection(lambda conn: core_row(conn, "core"))
        db.session.scalar(sa.select(sa.func.count(AuditLog.id)))  # the ORM, on it too
        assert pool.checkedout() == before + 1
    assert pool.checkedout() == before
