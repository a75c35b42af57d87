"""50 scans of one ticket at the same moment, from several processes, through a 4-process
server: exactly one check-in, 49 "already checked in", no server error, one row."""

import multiprocessing
from collections import Counter

import pytest
import sqlalchemy as sa

from tests.concurrency._http import fire_from_process
from tests.conftest import wib
from workshop.extensions import db
from workshop.models import Checkin, Role
from workshop.services import checkin

pytestmark = pytest.mark.slow

PROCESSES, THREADS = 5, 10  # 50 scans


def scan_everywhere(port: int, body: dict, tokens: list[str]) -> list[dict]:
    """PROCESSES client processes with THREADS threads each, all released together."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    processes = [
        context.Process(
            target=fire_from_process,
            args=(
                port,
                [
                    ("POST", "/api/v1/checkins", body, tokens[(p + t) % len(tokens)])
                    for t in range(THREADS)
                ],
                THREADS,
                barrier,
                results,
            ),
        )
        for p in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    batches = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    problems = [b for b in batches if isinstance(b, str)]
    assert not problems, problems
    return [answer for batch in batches for answer in batch]


@pytest.fixture
def door(app, make_user, make_event, register, person, token_for):
    """Today's event (FIXED_NOW's day), two registrations, and tokens for its organizer and
    two assigned door staff."""
    organizer = make_user(Role.ORGANIZER)
    event = make_event(owner=organizer, starts_at=wib(2030, 1, 15, 8), ends_at=wib(2030, 1, 15, 16))
    staff = [make_user(Role.STAFF) for _ in range(2)]
    with app.app_context():
        for user in staff:
            checkin.assign_staff(
                db.session.merge(event), db.session.merge(user), db.session.merge(organizer)
            )
        db.session.commit()
    regs = [register(event, person()).registration for _ in range(2)]
    tokens = [token_for(u) for u in (organizer, *staff)]
    return event, regs, tokens


def checkins(app, registration_id: int) -> list[Checkin]:
    with app.app_context():
        rows = list(
            db.session.scalars(sa.select(Checkin).where(Checkin.registration_id == registration_id))
        )
        db.session.expunge_all()
    return rows


def test_fifty_parallel_scans_check_in_once(app, live_server, door):
    event, (reg, _), tokens = door

    answers = scan_everywhere(
        live_server.port, {"code": reg.check_in_code, "event_id": event.id}, tokens
    )

    assert Counter(a["status"] for a in answers) == {200: 50}, live_server.log_tail()
    results = Counter(a["body"]["result"] for a in answers)
    assert results == {"ok": 1, "already_checked_in": 49}
    assert len({a["pid"] for a in answers}) > 1, "one worker served everything"
    assert len({a["client_pid"] for a in answers}) == PROCESSES
    rows = checkins(app, reg.id)
    assert len(rows) == 1
    assert {a["body"]["checkin_id"] for a in answers} == {rows[0].id}


def test_fifty_retries_with_one_nonce_count_once(app, live_server, door):
    """A device that retries the same scan (same nonce) 50 times at once: every answer is
    the one check-in."""
    event, (_, reg), tokens = door
    body = {
        "code": reg.check_in_code,
        "event_id": event.id,
        "nonce": "2b7e1516-28ae-4d2a-abf7-15880928cf4f",
    }

    answers = scan_everywhere(live_server.port, body, tokens[:1])

    assert Counter(a["status"] for a in answers) == {200: 50}, live_server.log_tail()
    assert Counter(a["body"]["result"] for a in answers) == {"ok": 50}
    rows = checkins(app, reg.id)
    assert len(rows) == 1
    assert {a["body"]["checkin_id"] for a in answers} == {rows[0].id}
