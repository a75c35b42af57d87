"""300 registrations from 16 threads at once through a 4-process server: never overbooked.

The event has 100 seats and a quota of 10 per work unit (15 units plus outside guests).
Afterwards exactly 100 are confirmed, no unit is over its quota, and replaying the stored
registrations in id order (the order the server placed them) gives exactly the stored
statuses and waiting-list positions; then 10 parallel cancellations promote exactly 10.
"""

from collections import Counter

import pytest
import sqlalchemy as sa

from tests.concurrency._http import fire
from workshop.extensions import db
from workshop.models import Registration, RegistrationStatus, Role

pytestmark = pytest.mark.slow

CAPACITY, QUOTA, UNITS, PEOPLE, THREADS = 100, 10, 15, 300, 16


def load(app, event_id: int) -> list[Registration]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(Registration)
                .where(Registration.event_id == event_id)
                .order_by(Registration.id)
            )
        )
        db.session.expunge_all()
    return rows


def body(n: int, unit_id: int | None) -> dict:
    data = {
        "name": f"Peserta Paralel {n}",
        "email": f"paralel{n}@muaraenimkab.go.id",
        "employment_status": "non_asn",
        "phone": "0812-3456-7890",
    }
    return data | ({"unit_id": unit_id} if unit_id else {"institution": "Pemkab Purworejo"})


def replay(rows: list[Registration]) -> list[str]:
    """The status each registration must have got, placing them one by one in id order."""
    confirmed, per_unit, expected = 0, Counter(), []
    for reg in rows:
        fits = confirmed < CAPACITY and (reg.unit_id is None or per_unit[reg.unit_id] < QUOTA)
        if fits:
            confirmed += 1
            per_unit[reg.unit_id] += 1
        expected.append("confirmed" if fits else "waitlisted")
    return expected


def assert_within_limits(rows: list[Registration]) -> None:
    confirmed = [r for r in rows if r.status == RegistrationStatus.CONFIRMED]
    assert len(confirmed) == CAPACITY
    per_unit = Counter(r.unit_id for r in confirmed if r.unit_id is not None)
    assert max(per_unit.values()) <= QUOTA


def test_parallel_registrations_never_overbook(
    app, live_server, make_user, make_unit, make_event, token_for
):
    organizer = make_user(Role.ORGANIZER)
    units = [make_unit() for _ in range(UNITS)]
    event = make_event(owner=organizer, capacity=CAPACITY, unit_quota=QUOTA)
    token = token_for(organizer)
    # Every 16th person is an outside guest; the others cycle through the units.
    requests = [
        (
            "POST",
            f"/api/v1/events/{event.id}/registrations",
            body(n, None if n % 16 == 15 else units[n % 16 % UNITS].id),
            token,
        )
        for n in range(PEOPLE)
    ]

    answers = fire(live_server.port, requests, THREADS)

    statuses = Counter(a.status for a in answers)
    assert statuses == {201: PEOPLE}, (statuses, live_server.log_tail())
    assert len({a.pid for a in answers}) > 1, "one worker served everything"
    rows = load(app, event.id)
    assert len(rows) == PEOPLE
    assert_within_limits(rows)
    assert Counter(str(r.status) for r in rows) == {
        "confirmed": CAPACITY,
        "waitlisted": PEOPLE - CAPACITY,
    }
    # The server's order is the id order: it is serial, and each answer told the truth.
    assert [str(r.status) for r in rows] == replay(rows)
    created = [r.created_at for r in rows]
    assert created == sorted(created)
    by_id = {a.body["id"]: a.body for a in answers}
    assert {r.id: str(r.status) for r in rows} == {i: b["status"] for i, b in by_id.items()}
    waiting = sorted(
        (r for r in rows if r.status == RegistrationStatus.WAITLISTED),
        key=lambda r: (r.waitlisted_at, r.id),
    )
    assert [r.id for r in waiting] == sorted(r.id for r in waiting)
    assert [by_id[r.id]["waitlist_position"] for r in waiting] == list(
        range(1, PEOPLE - CAPACITY + 1)
    )

    # Ten confirmed people cancel at the same moment: exactly ten move up.
    leaving = [r for r in rows if r.status == RegistrationStatus.CONFIRMED][::10][:10]
    cancels = fire(
        live_server.port,
        [("POST", f"/api/v1/registrations/{r.id}/cancel", None, token) for r in leaving],
        len(leaving),
    )

    assert Counter(a.status for a in cancels) == {200: 10}, live_server.log_tail()
    promoted = [reg_id for a in cancels for reg_id in a.body["promoted"]]
    assert len(promoted) == len(set(promoted)) == 10
    after = load(app, event.id)
    assert_within_limits(after)
    status_of = {r.id: str(r.status) for r in after}
    assert Counter(status_of.values()) == {
        "confirmed": CAPACITY,
        "waitlisted": PEOPLE - CAPACITY - 10,
        "cancelled": 10,
    }
    assert all(status_of[reg_id] == "confirmed" for reg_id in promoted)
    assert all(status_of[r.id] == "cancelled" for r in leaving)


def test_the_same_person_registering_twenty_times_at_once_is_one_registration(
    app, live_server, make_user, make_event, token_for
):
    """A form sent again and again (double clicks, retries): one registration, nineteen
    "duplicate_registration" answers naming it, and no server error."""
    organizer = make_user(Role.ORGANIZER)
    event = make_event(owner=organizer, capacity=CAPACITY)
    token = token_for(organizer)
    same = body(1, None)

    answers = fire(
        live_server.port,
        [("POST", f"/api/v1/events/{event.id}/registrations", same, token)] * 20,
        THREADS,
    )

    assert Counter(a.status for a in answers) == {201: 1, 409: 19}, live_server.log_tail()
    [created] = [a.body for a in answers if a.status == 201]
    refused = [a.body for a in answers if a.status == 409]
    assert {r["error"] for r in refused} == {"duplicate_registration"}
    assert {r["existing_id"] for r in refused} == {created["id"]}
    assert [r.id for r in load(app, event.id)] == [created["id"]]
