"""PostgreSQL: Core statements sent together, one round trip to the server for all of
them (psycopg's pipeline mode).

A registration on PostgreSQL spent more on its round trips (the server woken, the
protocol's messages written and read on both sides) than on its SQL. Statements whose
parameters do not depend on each other's results can travel together: the server runs
them one after the other, each READ COMMITTED statement with a snapshot taken when it
starts, so a count sent behind a ``SELECT … FOR UPDATE`` still sees everything committed
before that lock was got.

SQLAlchemy reads a statement's result columns as soon as it has executed it, which
psycopg's pipeline mode has only after the pipeline is synced, so these statements run on
the driver's connection, inside the transaction SQLAlchemy's connection has open:
compiled once per dialect by SQLAlchemy, their parameters and their results converted by
the types of their columns as SQLAlchemy would convert them. Errors are SQLAlchemy's
(an ``IntegrityError`` for a unique index, as from ``Connection.execute``).
"""

from collections import namedtuple
from weakref import WeakKeyDictionary

import psycopg
import sqlalchemy as sa


class _Compiled:
    """``statement`` compiled for ``dialect``, with the conversions of its parameters and
    of its result columns."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        if compiled.escaped_bind_names or compiled.literal_execute_params or \
                compiled.post_compile_params:
            raise ValueError("a pipelined statement needs plain bound parameters")
        self.compiled = compiled
        self.sql = compiled.string
        self.bind_processors = {
            name: processor for param, name in compiled.bind_names.items()
            if (processor := param.type.dialect_impl(dialect).bind_processor(dialect))}
        columns = list(statement.selected_columns)
        self.row_type = namedtuple("Row", [c.key for c in columns])
        self.result_processors = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]

    def parameters(self, params: dict) -> dict:
        values = self.compiled.construct_params(params)
        for name, processor in self.bind_processors.items():
            values[name] = processor(values[name])
        return values

    def rows(self, cursor) -> list:
        processors = self.result_processors
        return [self.row_type(*(value if processor is None else processor(value)
                                for processor, value in zip(processors, row)))
                for row in cursor.fetchall()]


class Pipelined:
    """A SELECT (which may be a WITH of INSERTs) to send in a pipeline with ``run``."""

    def __init__(self, statement: sa.Select):
        self.statement = statement
        self._compiled: WeakKeyDictionary = WeakKeyDictionary()

    def compiled(self, dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = _Compiled(self.statement, dialect)
        return compiled


def run(conn: sa.Connection, *calls: tuple[Pipelined, dict], commit: bool = False
        ) -> list[list]:
    """Send ``calls`` ((statement, parameters) pairs) in order, and a COMMIT after them
    when ``commit``, on ``conn``'s transaction (PostgreSQL), in one round trip; the rows
    of each statement, as named tuples. A failed statement fails the ones after it (and
    the COMMIT): the transaction is then to be rolled back, as after any error."""
    driver = conn.connection.driver_connection
    sent = []
    try:
        with driver.pipeline():
            for statement, params in calls:
                compiled = statement.compiled(conn.dialect)
                cursor = driver.cursor()
                cursor.execute(compiled.sql, compiled.parameters(params))
                sent.append((compiled, cursor))
            if commit:
                # Not driver.commit(): that syncs the pipeline, and leaving it syncs
                # again, a second round trip.
                driver.cursor().execute(b"COMMIT", prepare=False)
        return [compiled.rows(cursor) for compiled, cursor in sent]
    except psycopg.Error as exc:
        statements = "; ".join(compiled.sql for compiled, _cursor in sent)
        raise sa.exc.DBAPIError.instance(statements, None, exc, psycopg.Error) from exc
