"""services.events: the event rules, called directly."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.conftest import FIXED_NOW, wib
from workshop.extensions import db
from workshop.models import Event, EventDay, EventStatus, Role
from workshop.services import events
from workshop.services.errors import InvalidTransition, ValidationError
from workshop.services.events import AgendaInput, EventInput, Phase, SpeakerInput


def valid_input(**changes) -> EventInput:
    data = EventInput(
        title="Workshop Inovasi Pelayanan Publik",
        venue="Ruang Rapat Pangripta, Bappeda",
        starts_at=wib(2018, 3, 8, 8, 0),
        ends_at=wib(2018, 3, 9, 16, 0),
        capacity=80,
        unit_quota=3,
        registration_opens_at=wib(2018, 2, 26, 8, 0),
        registration_closes_at=wib(2018, 3, 7, 16, 0),
        speakers=[SpeakerInput("Elke Rapp", "GIZ")],
        agenda=[AgendaInput(wib(2018, 3, 8, 8, 30), "Pembukaan", "Ibrahim Iliyas")],
    )
    return replace(data, **changes)


def errors_of(app, data: EventInput) -> dict[str, list[str]]:
    with app.app_context(), pytest.raises(ValidationError) as caught:
        events.validate_event(data)
    return caught.value.fields


def test_valid_input_passes_and_is_normalised(app):
    with app.app_context():
        data = events.validate_event(valid_input(title="  Workshop  ", venue=" Bappeda "))
    assert data.title == "Workshop"
    assert data.venue == "Bappeda"
    assert data.starts_at == datetime(2018, 3, 8, 1, 0, tzinfo=UTC)


def test_naive_datetimes_are_read_as_wib(app):
    naive = valid_input(
        starts_at=datetime(2018, 3, 8, 8, 0),
        ends_at=datetime(2018, 3, 8, 16, 0),
        registration_closes_at=datetime(2018, 3, 7, 16, 0),
        agenda=[AgendaInput(datetime(2018, 3, 8, 8, 30), "Pembukaan")],
    )
    with app.app_context():
        data = events.validate_event(naive)
    assert data.starts_at == datetime(2018, 3, 8, 1, 0, tzinfo=UTC)
    assert data.ends_at == datetime(2018, 3, 8, 9, 0, tzinfo=UTC)
    assert data.registration_closes_at == datetime(2018, 3, 7, 9, 0, tzinfo=UTC)
    assert data.agenda[0].starts_at == datetime(2018, 3, 8, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Wajib diisi."),
        ({"title": "   "}, "title", "Wajib diisi."),
        ({"title": "x" * 10_000}, "title", "Paling banyak 200 karakter."),
        ({"venue": ""}, "venue", "Wajib diisi."),
        ({"description": "x" * 20_001}, "description", "Paling banyak 20000 karakter."),
        ({"ends_at": wib(2018, 3, 8, 7, 0)}, "ends_at", "Waktu selesai harus setelah waktu mulai."),
        ({"ends_at": wib(2018, 3, 8, 8, 0)}, "ends_at", "Waktu selesai harus setelah waktu mulai."),
        ({"capacity": 0}, "capacity", "Harus bilangan bulat lebih dari 0."),
        ({"capacity": -5}, "capacity", "Harus bilangan bulat lebih dari 0."),
        ({"capacity": 10**12}, "capacity", "Paling banyak 1.000.000."),
        ({"unit_quota": 0}, "unit_quota", "Harus bilangan bulat lebih dari 0."),
        (
            {"capacity": 10, "unit_quota": 11},
            "unit_quota",
            "Kuota per unit tidak boleh melebihi kapasitas.",
        ),
        (
            {"days": [date(2018, 3, 7)]},
            "days",
            "Hari kegiatan harus di antara tanggal mulai dan selesai.",
        ),
        (
            {"days": [date(2018, 3, 8), date(2018, 3, 10)]},
            "days",
            "Hari kegiatan harus di antara tanggal mulai dan selesai.",
        ),
        (
            {"registration_closes_at": wib(2018, 3, 9, 16, 1)},
            "registration_closes_at",
            "Pendaftaran harus ditutup paling lambat saat kegiatan selesai.",
        ),
        (
            {"registration_opens_at": wib(2018, 3, 7, 16, 0)},
            "registration_opens_at",
            "Pendaftaran harus dibuka sebelum ditutup.",
        ),
        (
            {"speakers": [SpeakerInput("", "GIZ")]},
            "speakers",
            "Setiap narasumber perlu nama (paling banyak 200 karakter).",
        ),
        (
            {"agenda": [AgendaInput(wib(2018, 3, 8, 8, 30), " ")]},
            "agenda",
            "Setiap acara perlu judul (paling banyak 300 karakter).",
        ),
        (
            {"agenda": [AgendaInput(wib(2018, 3, 8, 7, 59), "Registrasi")]},
            "agenda",
            "Waktu acara harus di antara waktu mulai dan selesai kegiatan.",
        ),
        (
            {"agenda": [AgendaInput(wib(2018, 3, 10, 8, 0), "Penutupan")]},
            "agenda",
            "Waktu acara harus di antara waktu mulai dan selesai kegiatan.",
        ),
        ({"unit_id": 999_999}, "unit_id", "Unit kerja tidak dikenal."),
    ],
)
def test_rule_violations_name_the_field(app, changes, field, message):
    fields = errors_of(app, valid_input(**changes))
    assert fields[field] == [message]
    assert set(fields) == {field}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_at": datetime(1, 1, 1, 0, 0)}, "starts_at"),  # would overflow to UTC
        ({"ends_at": datetime(9999, 12, 31, 23, 0)}, "ends_at"),
        ({"registration_opens_at": datetime(1800, 1, 1)}, "registration_opens_at"),
        ({"days": [date(1, 1, 1)]}, "days"),
        ({"agenda": [AgendaInput(datetime(1, 1, 1), "Pembukaan")]}, "agenda"),
    ],
)
def test_dates_outside_sensible_years_are_refused(app, changes, field):
    assert errors_of(app, valid_input(**changes)) == {field: ["Tahun harus antara 1900 dan 2999."]}


def test_several_violations_are_reported_together(app):
    fields = errors_of(app, valid_input(title="", capacity=0, venue=""))
    assert set(fields) == {"title", "venue", "capacity"}


def test_days_inside_the_range_and_agenda_on_the_edges_are_accepted(app):
    with app.app_context():
        data = events.validate_event(
            valid_input(
                days=[date(2018, 3, 9), date(2018, 3, 8), date(2018, 3, 9)],
                agenda=[
                    AgendaInput(wib(2018, 3, 8, 8, 0), "Registrasi"),
                    AgendaInput(wib(2018, 3, 9, 16, 0), "Penutupan"),
                ],
            )
        )
    assert data.days == [date(2018, 3, 8), date(2018, 3, 9)]


def test_inactive_unit_is_refused(app, make_unit):
    unit = make_unit(active=False)
    fields = errors_of(app, valid_input(unit_id=unit.id))
    assert fields == {"unit_id": ["Unit kerja tidak dikenal."]}
    active = make_unit()
    with app.app_context():
        assert events.validate_event(valid_input(unit_id=active.id)).unit_id == active.id


def test_default_days_are_every_wib_calendar_day(app, make_user):
    owner = make_user(Role.ORGANIZER)
    # 06.00 WIB on the 8th is still the 7th in UTC; the days must follow WIB.
    data = valid_input(
        starts_at=wib(2018, 3, 8, 6, 0),
        ends_at=wib(2018, 3, 10, 23, 30),
        registration_closes_at=None,
        agenda=[],
    )
    with app.app_context():
        event = events.create_event(db.session.merge(owner), data)
        db.session.commit()
        assert event.day_dates == [date(2018, 3, 8), date(2018, 3, 9), date(2018, 3, 10)]
        assert events.uses_default_days(event)


def test_new_events_are_drafts_with_speakers_and_agenda(app, make_user):
    owner = make_user(Role.ORGANIZER)
    with app.app_context():
        event = events.create_event(db.session.merge(owner), valid_input())
        db.session.commit()
        event = db.session.get(Event, event.id)
        assert event.status == EventStatus.DRAFT
        assert event.owner_id == owner.id
        assert [(s.name, s.affiliation) for s in event.speakers] == [("Elke Rapp", "GIZ")]
        assert [a.title for a in event.agenda] == ["Pembukaan"]


def test_editing_days_keeps_existing_day_rows(app, make_user):
    owner = make_user(Role.ORGANIZER)
    three_days = valid_input(ends_at=wib(2018, 3, 10, 16, 0))
    with app.app_context():
        actor = db.session.merge(owner)
        event = events.create_event(actor, three_days)
        db.session.commit()
        ids = {d.date: d.id for d in event.days}
        assert sorted(ids) == [date(2018, 3, 8), date(2018, 3, 9), date(2018, 3, 10)]

        events.update_event(
            event, replace(three_days, days=[date(2018, 3, 9), date(2018, 3, 10)]), actor
        )
        db.session.commit()
        assert {d.date: d.id for d in event.days} == {
            date(2018, 3, 9): ids[date(2018, 3, 9)],
            date(2018, 3, 10): ids[date(2018, 3, 10)],
        }

        events.update_event(event, three_days, actor)  # back to every day
        db.session.commit()
        after = {d.date: d.id for d in event.days}
        assert after[date(2018, 3, 9)] == ids[date(2018, 3, 9)]
        assert after[date(2018, 3, 10)] == ids[date(2018, 3, 10)]
        assert date(2018, 3, 8) in after
        stored = db.session.scalars(db.select(EventDay).where(EventDay.event_id == event.id))
        assert len(list(stored)) == 3


def test_refused_update_changes_nothing(app, make_event):
    event = make_event(title="Judul lama")
    with app.app_context():
        stored = db.session.get(Event, event.id)
        actor = stored.owner
        with pytest.raises(ValidationError):
            events.update_event(
                stored, replace(events.input_from_event(stored), title="", capacity=0), actor
            )
        db.session.rollback()
        assert db.session.get(Event, event.id).title == "Judul lama"


def test_input_from_event_round_trips(app, make_event):
    event = make_event(capacity=30, unit_quota=2)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        data = events.input_from_event(stored)
        assert data.capacity == 30
        assert data.unit_quota == 2
        assert data.days == stored.day_dates
        events.update_event(stored, data, stored.owner)  # unchanged values stay valid


def test_publish_and_cancel_transitions(app, make_event):
    draft = make_event(status=EventStatus.DRAFT)
    with app.app_context():
        event = db.session.get(Event, draft.id)
        events.publish_event(event, event.owner)
        assert event.status == EventStatus.PUBLISHED
        with pytest.raises(InvalidTransition):
            events.publish_event(event, event.owner)
        events.cancel_event(event, event.owner)
        assert event.status == EventStatus.CANCELLED
        with pytest.raises(InvalidTransition):
            events.cancel_event(event, event.owner)
        with pytest.raises(InvalidTransition):
            events.publish_event(event, event.owner)


@pytest.mark.parametrize(
    ("status", "offset_hours", "phase"),
    [
        (EventStatus.DRAFT, 48, Phase.DRAFT),
        (EventStatus.CANCELLED, 48, Phase.CANCELLED),
        (EventStatus.PUBLISHED, 48, Phase.UPCOMING),
        (EventStatus.PUBLISHED, -2, Phase.RUNNING),  # started two hours ago, lasts eight
        (EventStatus.PUBLISHED, -48, Phase.FINISHED),
        (EventStatus.FINISHED, 48, Phase.FINISHED),
    ],
)
def test_event_phase(app, make_event, status, offset_hours, phase):
    start = FIXED_NOW + timedelta(hours=offset_hours)
    event = make_event(status=status, starts_at=start, ends_at=start + timedelta(hours=8))
    assert events.event_phase(event, FIXED_NOW) == phase


def test_agenda_by_day_groups_in_wib_and_in_time_order(app, make_event):
    event = make_event(
        starts_at=wib(2030, 2, 7, 8, 0),
        ends_at=wib(2030, 2, 8, 16, 0),
        agenda=[
            AgendaInput(wib(2030, 2, 8, 8, 30), "Hari kedua"),
            AgendaInput(wib(2030, 2, 7, 13, 0), "Siang"),
            AgendaInput(wib(2030, 2, 7, 8, 0), "Registrasi"),
        ],
    )
    grouped = events.agenda_by_day(event)
    assert [(day, [a.title for a in items]) for day, items in grouped] == [
        (date(2030, 2, 7), ["Registrasi", "Siang"]),
        (date(2030, 2, 8), ["Hari kedua"]),
    ]


def test_public_events_upcoming_soonest_first_then_past_newest_first(app, make_event):
    now = FIXED_NOW
    later = make_event(title="Nanti", starts_at=now + timedelta(days=20))
    soon = make_event(title="Segera", starts_at=now + timedelta(days=2))
    running = make_event(title="Berjalan", starts_at=now - timedelta(hours=1))
    old = make_event(title="Lama", starts_at=now - timedelta(days=60))
    recent = make_event(
        title="Baru lewat", starts_at=now - timedelta(days=5), status=EventStatus.FINISHED
    )
    make_event(title="Draf", status=EventStatus.DRAFT)
    make_event(title="Batal", status=EventStatus.CANCELLED)
    with app.app_context():
        listed = [e.id for e in events.public_events(now)]
    assert listed == [running.id, soon.id, later.id, recent.id, old.id]


def test_managed_events_and_visibility(app, make_user, make_event):
    owner, other = make_user(Role.ORGANIZER), make_user(Role.ORGANIZER)
    admin, participant = make_user(Role.ADMIN), make_user(Role.PARTICIPANT)
    draft = make_event(owner=owner, status=EventStatus.DRAFT)
    other_event = make_event(owner=other)
    with app.app_context():
        assert [e.id for e in events.managed_events(db.session.merge(owner))] == [draft.id]
        assert {e.id for e in events.managed_events(db.session.merge(admin))} == {
            draft.id,
            other_event.id,
        }
    assert events.can_view(owner, draft)
    assert events.can_view(admin, draft)
    assert not events.can_view(other, draft)
    assert not events.can_view(participant, draft)
    assert not events.can_view(None, draft)
    assert events.can_view(None, other_event)
    assert not events.can_manage(other, draft)
