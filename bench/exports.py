"""Benchmark: the event dashboard and every export for 2,000 registrations x 3 days.

    .venv/bin/python bench/exports.py                 # temporary SQLite database
    DATABASE_URL=postgresql://... .venv/bin/python bench/exports.py   # an EMPTY PostgreSQL db

Builds one event (2,000 confirmed registrations over 12 work units, about four in five
checked in on each of three days), logs in as its organizer through the real login
form, then requests each report through the test client (the whole Flask stack: routing,
permission checks, queries, rendering) and prints the median and worst of several runs
and the number of SQL statements per request. The target is under one second each.
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from workshop import create_app
from workshop.extensions import db
from workshop.models import (
    Checkin,
    Event,
    EventDay,
    EventStatus,
    Registration,
    Role,
    Unit,
    User,
)
from workshop.timeutil import WIB

PEOPLE, RUNS = 2000, 5
START = datetime(2030, 1, 8, 8, 0, tzinfo=WIB)
DAYS = [date(2030, 1, 8), date(2030, 1, 9), date(2030, 1, 10)]
PASSWORD = "bench-123"  # noqa: S105 - a throwaway account in a throwaway database


def build(app) -> tuple[int, str]:
    now = datetime.now(UTC)
    with app.app_context():
        units = [Unit(name=f"Dinas Bench {i}", short_name=f"DB{i}") for i in range(12)]
        owner = User(email="bench-organizer@example.com", name="Bench", role=Role.ORGANIZER)
        owner.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.add_all([*units, owner])
        db.session.flush()
        event = Event(
            title="Benchmark 2.000 peserta",
            venue="Aula",
            starts_at=START,
            ends_at=START + timedelta(days=2, hours=8),
            owner_id=owner.id,
            status=EventStatus.PUBLISHED,
        )
        event.days = [EventDay(date=d) for d in DAYS]
        db.session.add(event)
        db.session.flush()
        db.session.execute(
            sa.insert(Registration),
            [
                {
                    "event_id": event.id,
                    "name": f"Peserta Nomor {i:04d}, S.E.",
                    "email": f"p{i}@example.com",
                    "employment_status": "pns",
                    "nip": f"1980{i // 28 % 12 + 1:02d}{i % 28 + 1:02d}200501{i % 2 + 1}"
                    f"{i // 336 + 1:03d}",
                    "position": "Analis Kebijakan",
                    "role": "participant",
                    "unit_id": units[i % 12].id if i % 9 else None,
                    "institution": None if i % 9 else "Pemerintah Kota Bandung",
                    "status": "confirmed",
                    "manage_token": f"m-{i:05d}-{'x' * 30}",
                    "check_in_code": f"c-{i:05d}-{'y' * 30}",
                    "created_at": now,
                    "updated_at": now,
                    "confirmed_at": now,
                    "phone": "+6281234567890",
                }
                for i in range(PEOPLE)
            ],
        )
        ids = db.session.scalars(
            sa.select(Registration.id).where(Registration.event_id == event.id)
        ).all()
        db.session.execute(
            sa.insert(Checkin),
            [
                {
                    "registration_id": reg_id,
                    "event_day_id": day.id,
                    "event_id": event.id,
                    "method": "camera",
                    "checked_in_at": datetime.combine(day.date, datetime.min.time(), tzinfo=WIB)
                    + timedelta(hours=7, minutes=j % 120),
                }
                for d, day in enumerate(event.days)
                for j, reg_id in enumerate(ids)
                if (j + d) % 5
            ],
        )
        db.session.commit()
        return event.id, owner.email


def main() -> None:
    url = os.environ.get("DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/bench.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": True,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "bench.local",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        engine = db.engine
    event_id, email = build(app)
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code in (
        302,
        303,
    )
    statements = 0

    def count(*_args):
        nonlocal statements
        statements += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    print(
        f"{PEOPLE} registrations x {len(DAYS)} days on {engine.dialect.name}; "
        f"median and worst of {RUNS} runs"
    )
    print(f"{'request':<46}{'median':>9}{'worst':>9}{'size':>10}{'queries':>9}")
    for label, path in [
        ("dashboard (HTML)", "/dashboard"),
        ("dashboard.json (live refresh)", "/dashboard.json"),
        ("export.xlsx", "/export.xlsx"),
        ("export.csv", "/export.csv"),
        ("attendance.pdf (day 2, 1,600 people)", "/attendance.pdf?day=2030-01-09"),
        ("attendance.pdf blank (2,000 people)", "/attendance.pdf?day=2030-01-09&blank=1"),
    ]:
        times, size = [], 0
        for _ in range(RUNS):
            statements = 0
            started = time.perf_counter()
            response = client.get(f"/organizer/events/{event_id}{path}")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
            size = len(response.data)
        print(
            f"{label:<46}{statistics.median(times):>8.3f}s{max(times):>8.3f}s"
            f"{size / 1024:>8.0f}kB{statements:>9}"
        )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
