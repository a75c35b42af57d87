"""Another process writing while a request is between its reads and its write.

On SQLite a transaction that has read cannot write once another connection committed
after its first read ("database is locked" at once, whatever the busy timeout). Requests
that may write therefore take the write lock when they begin (BEGIN IMMEDIATE), and GET
requests that write (the audit row of an export) write in a transaction of their own.
Without either, each request below answered 500. On PostgreSQL the same tests pass
through row locks.
"""

import threading

import sqlalchemy as sa

from tests.views.test_organizer_events import form_data
from workshop.extensions import db
from workshop.models import AuditLog, Event, Role, Unit
from workshop.services import events, exports


class OtherProcess:
    """Writes a unit through a connection of its own engine, like another server
    process; on SQLite it waits (busy timeout) while this request holds the lock."""

    def __init__(self, app):
        self.engine = sa.create_engine(
            app.config["SQLALCHEMY_DATABASE_URI"],
            connect_args={"timeout": 30}
            if "sqlite" in app.config["SQLALCHEMY_DATABASE_URI"]
            else {},
        )
        self.thread = None
        self.error = None

    def write(self, name: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.insert(Unit.__table__).values(name=name, short_name=name[:20], active=True)
                )
        except Exception as exc:  # reported by the test in finish()
            self.error = exc

    def write_now(self, name: str) -> None:
        """Start the write and give it time to commit (it cannot while we hold the lock)."""
        self.thread = threading.Thread(target=self.write, args=(name,))
        self.thread.start()
        self.thread.join(0.5)

    def finish(self) -> None:
        if self.thread is not None:
            self.thread.join(30)
        self.engine.dispose()
        assert self.error is None, self.error


def unit_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Unit.name).order_by(Unit.name)))


def test_a_form_post_survives_another_process_writing_meanwhile(
    app, client, login, make_user, make_event, monkeypatch
):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner)
    other = OtherProcess(app)
    real_update = events.update_event

    def update_while_another_process_writes(event_, data, actor):
        other.write_now("Dinas Kesehatan")  # after this request has read the event
        return real_update(event_, data, actor)

    monkeypatch.setattr(events, "update_event", update_while_another_process_writes)
    login(owner)
    response = client.post(
        f"/organizer/events/{event.id}/edit", data=form_data(title="Workshop Inovasi (diubah)")
    )
    other.finish()
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Event, event.id).title == "Workshop Inovasi (diubah)"
    assert "Dinas Kesehatan" in unit_names(app)


def test_an_export_is_audited_although_another_process_wrote_meanwhile(
    app, client, login, make_user, make_event, monkeypatch
):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner)
    other = OtherProcess(app)
    real_csv = exports.registrations_csv

    def csv_while_another_process_writes(days, people):
        other.write_now("Dinas Pendidikan")  # a scan at the door, say: not blocked by GETs
        other.finish()
        return real_csv(days, people)

    monkeypatch.setattr(exports, "registrations_csv", csv_while_another_process_writes)
    login(owner)
    response = client.get(f"/organizer/events/{event.id}/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditLog.action)))
    assert "report.export" in actions
    assert "Dinas Pendidikan" in unit_names(app)
