"""The registration's hot statements, run on the driver's connection inside the request's
transaction (``extensions.request_connection``). PostgreSQL: sent together, one round
trip to the server for all of them (libpq's pipeline mode), as lean on the client's CPU
as the protocol allows. SQLite: executed one after the other, without SQLAlchemy's
execution around each.

A registration on PostgreSQL spent more on its round trips (the server woken, the
protocol's messages written and read on both sides) than on its SQL. Statements whose
parameters do not depend on each other's results can travel together: the server runs
them one after the other, each READ COMMITTED statement with a snapshot taken when it
starts, so a count sent behind a ``SELECT … FOR UPDATE`` still sees everything committed
before that lock was got.

psycopg's own pipeline mode does that at a price: its cursors, its queues and a sync
after the BEGIN it sends by itself cost the worker about ten times the CPU of the
exchange (300 µs against 30 µs for BEGIN, a statement and COMMIT, measured), and a
registration is CPU-bound. So ``run`` speaks to libpq (``psycopg.pq``) on the request's
connection, with psycopg's C parts only: its type adapters for the parameters and the
rows, its non-blocking send and fetch, its wait (which releases the GIL). It

- opens the transaction itself when SQLAlchemy's connection has not sent anything yet
  (psycopg would have sent BEGIN alone, a round trip of its own), and commits it with
  the last statements when asked; psycopg reads the transaction's state from libpq, so
  it goes on from there (a later statement does not BEGIN again, its COMMIT or ROLLBACK
  at the end of the request is sent only when a transaction is open);
- prepares each statement once per connection, under a name of its own, in the same
  round trip as its first execution. Prepared statements outlive a transaction, except
  that psycopg deallocates ALL of a connection's when it rolls one back (``track``
  forgets them then). A statement prepared anew is closed first, which is harmless when
  it does not exist, so a forgotten one is never an error.

The statements are compiled once per dialect by SQLAlchemy; their parameters and their
results are converted by the types of their columns as SQLAlchemy would convert them.
Errors are SQLAlchemy's (an ``IntegrityError`` for a unique index, as from
``Connection.execute``); a connection lost in the middle of an exchange is invalidated,
as SQLAlchemy does, and the pool replaces it.
"""

import hashlib
import re
from collections import namedtuple
from weakref import WeakKeyDictionary

import psycopg
import sqlalchemy as sa
from psycopg import generators, pq
from psycopg.adapt import PyFormat, Transformer

_IDLE = pq.TransactionStatus.IDLE
_TUPLES_OK, _FATAL_ERROR = pq.ExecStatus.TUPLES_OK, pq.ExecStatus.FATAL_ERROR
_PIPELINE_SYNC = pq.ExecStatus.PIPELINE_SYNC
_PLACEHOLDER = re.compile(r"%%|%\(([^)]+)\)s")  # psycopg's (pyformat) parameters

# Per connection: the names of the statements it has prepared, and its type adapters
# (which keep the adapter found for each type); forgotten with the connection.
_prepared: WeakKeyDictionary = WeakKeyDictionary()
_transformers: WeakKeyDictionary = WeakKeyDictionary()


_REQUIRED = object()  # a parameter the caller gives (no value in the statement)


class _Compiled:
    """``statement`` compiled for ``dialect``: its SQL with numbered (PostgreSQL) or
    positional (SQLite) parameters, the order of their names, their conversions and
    those of its result columns."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        if (
            compiled.escaped_bind_names
            or compiled.literal_execute_params
            or compiled.post_compile_params
        ):
            raise ValueError("a pipelined statement needs plain bound parameters")
        self.sql = compiled.string
        if compiled.positiontup is not None:  # SQLite's "?"
            order, query = list(compiled.positiontup), self.sql
        else:
            order = []

            def number(match) -> str:
                if match.group(0) == "%%":
                    return "%"
                if match.group(1) not in order:
                    order.append(match.group(1))
                return f"${order.index(match.group(1)) + 1}"

            query = _PLACEHOLDER.sub(number, self.sql)
        self.query = query.encode() if dialect.name == "postgresql" else query
        self.name = b"workshop_" + hashlib.sha1(query.encode()).hexdigest()[:16].encode()  # noqa: S324 - a name, not a secret
        self.formats = [PyFormat.TEXT] * len(order)
        # Each parameter: its name, its conversion and, for a value written in the
        # statement (a compared constant), that value converted once.
        self.slots = []
        for name in order:
            param = compiled.binds[name]
            processor = param.type.dialect_impl(dialect).bind_processor(dialect)
            constant = _REQUIRED if param.required or param.callable else param.value
            if constant is not _REQUIRED and processor is not None:
                constant = processor(constant)
            self.slots.append((name, processor, constant))
        columns = list(statement.exported_columns)
        self.row_type = namedtuple("Row", [c.key for c in columns])
        self.result_processors = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]

    def parameters(self, params: dict) -> list:
        values = []
        for name, processor, constant in self.slots:
            if name in params:
                value = params[name]
                values.append(value if processor is None else processor(value))
            elif constant is _REQUIRED:
                raise KeyError(f"no value for the parameter {name!r}")
            else:
                values.append(constant)
        return values

    def rows(self, loaded: list) -> list:
        processors = self.result_processors
        return [
            self.row_type(
                *(
                    value if processor is None else processor(value)
                    for processor, value in zip(processors, row, strict=True)
                )
            )
            for row in loaded
        ]


class Pipelined:
    """A SELECT (which may be a WITH of INSERTs), or an INSERT (with or without
    RETURNING), to send in a pipeline with ``run``."""

    def __init__(self, statement: sa.Select):
        self.statement = statement
        self._compiled: WeakKeyDictionary = WeakKeyDictionary()

    def compiled(self, dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = _Compiled(self.statement, dialect)
        return compiled


def run(conn: sa.Connection, *calls: tuple[Pipelined, dict], commit: bool = False) -> list[list]:
    """Send ``calls`` ((statement, parameters) pairs) in order, and a COMMIT after them
    when ``commit``, on ``conn``'s transaction (PostgreSQL), in one round trip; the rows
    of each statement, as named tuples. A failed statement fails the ones after it (and
    the COMMIT): the transaction is then to be rolled back, as after any error.

    SQLite runs in the process: the statements are simply executed one after the other
    on the driver's connection, without SQLAlchemy's execution around each (a fifth of
    a registration's time went there)."""
    if conn.dialect.name == "sqlite":
        return _run_sqlite(conn, calls, commit)
    driver = conn.connection.driver_connection
    pgconn = driver.pgconn
    prepared = _prepared.setdefault(driver, set())
    transformer = _transformers.get(driver)
    if transformer is None:
        transformer = _transformers[driver] = Transformer(driver)
    compiled = [(statement.compiled(conn.dialect), params) for statement, params in calls]
    statements = "; ".join(statement.sql for statement, _params in compiled)
    preparing = []
    try:
        pgconn.enter_pipeline_mode()
        if pgconn.transaction_status == _IDLE and not driver.autocommit:
            pgconn.send_query_params(driver._get_tx_start_command(), None)  # BEGIN
        for statement, params in compiled:
            if statement.name not in prepared:
                pgconn.send_close_prepared(statement.name)
                pgconn.send_prepare(statement.name, statement.query, None)
                preparing.append(statement.name)
            values = transformer.dump_sequence(statement.parameters(params), statement.formats)
            pgconn.send_query_prepared(statement.name, values, None)
        if commit:
            pgconn.send_query_params(b"COMMIT", None)
        pgconn.pipeline_sync()
        results = driver.wait(_exchange(pgconn))
        pgconn.exit_pipeline_mode()
    except BaseException as exc:
        # Cut short (the server gone, an interrupt, a value no adapter takes): what the
        # protocol has in flight is unknown, so the connection is invalidated (closed,
        # and replaced by the pool), as SQLAlchemy does when it loses one.
        conn.invalidate(exc if isinstance(exc, Exception) else None)
        if isinstance(exc, psycopg.Error):
            raise sa.exc.DBAPIError.instance(
                statements, None, exc, psycopg.Error, connection_invalidated=True
            ) from exc
        raise
    failed = next((r for r in results if r.status == _FATAL_ERROR), None)
    if failed is not None:
        exc = psycopg.errors.error_from_result(failed, encoding=driver.info.encoding)
        raise sa.exc.DBAPIError.instance(statements, None, exc, psycopg.Error) from exc
    prepared.update(preparing)
    rows = [r for r in results if r.status == _TUPLES_OK]
    out = []
    for (statement, _params), result in zip(compiled, rows, strict=True):
        transformer.set_pgresult(result)
        out.append(statement.rows(transformer.load_rows(0, result.ntuples, tuple)))
    return out


def _run_sqlite(conn: sa.Connection, calls, commit: bool) -> list[list]:
    driver = conn.connection.driver_connection
    out, statement = [], None
    try:
        for call, params in calls:
            statement = call.compiled(conn.dialect)
            cursor = driver.execute(statement.query, statement.parameters(params))
            out.append(statement.rows(cursor.fetchall()))
        if commit and driver.in_transaction:
            statement = None
            driver.execute("COMMIT")
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(
            statement.sql if statement is not None else "COMMIT",
            None,
            exc,
            conn.dialect.loaded_dbapi.Error,
        ) from exc
    return out


def _exchange(pgconn):
    """Flush what the pipeline holds and read every result up to its sync (a generator
    for psycopg's wait)."""
    yield from generators.send(pgconn)
    results = []
    while True:
        fetched = yield from generators.fetch_many(pgconn)
        if fetched and fetched[-1].status == _PIPELINE_SYNC:
            return results
        results.extend(fetched)


def track(engine: sa.Engine) -> None:
    """Forget a connection's prepared statements when psycopg rolls a transaction back:
    it then deallocates all of them (``DEALLOCATE ALL``). Both ways a rollback goes: a
    Connection's (a Session's) and the pool's when the connection is returned."""

    def forget(driver) -> None:
        if driver is not None and driver.pgconn.transaction_status != _IDLE:
            _prepared.pop(driver, None)

    @sa.event.listens_for(engine, "rollback")
    def on_rollback(conn):
        if not conn.invalidated:
            forget(conn.connection.driver_connection)

    @sa.event.listens_for(engine, "reset")
    def on_reset(dbapi_connection, _record, _state):
        forget(getattr(dbapi_connection, "driver_connection", None))
