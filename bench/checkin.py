"""Check-ins per second and p50/p99 latency through HTTP under gunicorn, 20 concurrent
scanners, on SQLite and (with --pg) PostgreSQL, with sync and threaded (gthread)
workers, each next to a trivial Flask endpoint served the same way in the same run.

    .venv/bin/python -m bench.checkin
    .venv/bin/python -m bench.checkin --pg postgresql://postgres@127.0.0.1:55433/bench_db

The PostgreSQL database is WIPED (its public schema is dropped). Every scan is a real
first check-in of a different confirmed registration (POST /api/v1/checkins with a door
staff token) on an event taking place today. "bare FSA" is the issue's reference point:
a bare Flask-SQLAlchemy endpoint doing one lookup, one insert and a commit, served the
same way. The first check-in run sends scans back to back
(20 closed loops: the capacity); the second paces each scanner at one scan every
--interval seconds (40 scans a second at 20 doors) to show the latency a door sees at a
realistic rhythm. --profile N prints where the time of N scans goes (cProfile,
in-process, SQLite).
"""

import argparse
import cProfile
import pstats
import secrets
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

from bench._server import (
    ServerSpec,
    bench_app,
    fresh_schema,
    gunicorn,
    load_average,
    prepare_bare,
    run_load,
    split,
    sqlite_url,
    trivial_jobs,
    warm_up,
)

SPECS = [("sync", 1), ("gthread", 4)]  # worker class, threads per worker (4 workers each)


def prepare(url: str, runs: int, per_run: int) -> tuple[str, list[tuple[int, list[str]]]]:
    """A staff token and, per run, an event held today (WIB) with ``per_run`` confirmed
    registrations (inserted in bulk: the benchmark measures scanning, not registering)."""
    import sqlalchemy as sa

    from workshop.extensions import db
    from workshop.models import EventStatus, Registration, Role, User
    from workshop.services.checkin import assign_staff
    from workshop.services.events import EventInput, create_event
    from workshop.services.users import issue_token
    from workshop.timeutil import WIB

    app = bench_app(url)
    today = datetime.now(WIB).date()
    start = datetime.combine(today, time(0, 0), WIB)
    with app.app_context():
        owner = User(email="owner@example.com", name="Penyelenggara", role=Role.ORGANIZER,
                     password_hash="!unusable")  # noqa: S106 - token-only users
        staff = User(email="petugas@example.com", name="Petugas Pintu", role=Role.STAFF,
                     password_hash="!unusable")  # noqa: S106
        db.session.add_all([owner, staff])
        events = []
        for run in range(runs):
            event = create_event(owner, EventInput(
                title=f"Bench presensi {run}", venue="Pangripta", starts_at=start,
                ends_at=start + timedelta(hours=23, minutes=59)))
            event.status = EventStatus.PUBLISHED
            db.session.flush()
            assign_staff(event, staff, owner)
            codes = [secrets.token_urlsafe(32) for _ in range(per_run)]
            db.session.execute(sa.insert(Registration), [
                {"event_id": event.id, "name": f"Peserta {run}-{n}",
                 "email": f"p{run}-{n}@example.com", "employment_status": "non_asn",
                 "institution": "Pemerintah Kabupaten Muara Enim", "role": "participant",
                 "status": "confirmed", "check_in_code": code}
                for n, code in enumerate(codes)
            ])
            events.append((event.id, codes))
        token = issue_token(staff)
        db.session.commit()
        db.engine.dispose()
    return token, events


def scan_jobs(event_id: int, codes: list[str], token: str, clients: int) -> list[list]:
    return split([("POST", "/api/v1/checkins", {"code": code, "event_id": event_id}, token)
                  for code in codes], clients)


def measure(url: str, label: str, args, tmp: Path) -> None:
    fresh_schema(url)
    token, events = prepare(url, len(SPECS), args.scans + args.paced)
    print(f"\n{label}  ({load_average()})")
    for (worker_class, threads), (event_id, codes) in zip(SPECS, events, strict=True):
        env = {"BENCH_DATABASE_URL": url, "BENCH_MAIL_DIR": str(tmp / "mail")}
        trivial_spec = ServerSpec("bench._server:trivial_app()", worker_class, threads)
        bare_spec = ServerSpec("bench._server:bare_app()", worker_class, threads, env)
        app_spec = ServerSpec("bench._server:workshop_app()", worker_class, threads, env)
        with gunicorn(trivial_spec) as port:
            warm_up(port, "/ping")
            trivial = run_load(port, trivial_jobs(args.trivial, args.clients), args.processes)
        bare_codes = [secrets.token_urlsafe(32) for _ in range(args.scans)]
        prepare_bare(url, bare_codes)
        with gunicorn(bare_spec) as port:
            warm_up(port, "/ping")
            bare = run_load(port, split([("POST", "/scan", {"code": c}, None)
                                         for c in bare_codes], args.clients), args.processes)
        flat, paced = codes[: args.scans], codes[args.scans :]
        with gunicorn(app_spec) as port:
            warm_up(port, "/api/v1/openapi.json")
            result = run_load(port, scan_jobs(event_id, flat, token, args.clients),
                              args.processes)
            door = run_load(port, scan_jobs(event_id, paced, token, args.clients),
                            args.processes, interval=args.interval)
        for run, count in ((result, len(flat)), (door, len(paced))):
            assert dict(run.statuses) == {200: count}, run.statuses
            assert dict(run.results) == {"ok": count}, run.results
        assert dict(bare.statuses) == {200: args.scans}, bare.statuses
        name = app_spec.label()
        print(f"  {name:12} trivial  {trivial.summary()}")
        print(f"  {name:12} bare FSA {bare.summary()}  ratio {bare.rate / trivial.rate:.3f}x")
        print(f"  {name:12} check-in {result.summary()}  "
              f"ratio {result.rate / trivial.rate:.3f}x ({result.rate / bare.rate:.2f} of bare)")
        print(f"  {name:12} paced    {door.summary()}  "
              f"(each scanner one scan every {args.interval:g} s)")


def profile(tmp: Path, count: int) -> None:
    from workshop import create_app
    from workshop.extensions import db

    url = sqlite_url(tmp)
    fresh_schema(url)
    token, [(event_id, codes)] = prepare(url, 1, count)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "RATELIMIT_ENABLED": False, "MAIL_FILE_DIR": str(tmp / "mail")})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    profiler = cProfile.Profile()
    profiler.enable()
    for code in codes:
        response = client.post("/api/v1/checkins", json={"code": code, "event_id": event_id},
                               headers=headers)
        assert response.get_json()["result"] == "ok", response.get_json()
    profiler.disable()
    with app.app_context():
        db.engine.dispose()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="PostgreSQL URL of a database the benchmark may wipe")
    parser.add_argument("--scans", type=int, default=3000, help="check-ins per run")
    parser.add_argument("--trivial", type=int, default=3000, help="trivial requests per run")
    parser.add_argument("--clients", type=int, default=20, help="concurrent scanners")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--paced", type=int, default=600,
                        help="check-ins in the paced run (a door's real rhythm)")
    parser.add_argument("--interval", type=float, default=0.5,
                        help="seconds between two scans of one scanner in the paced run")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="only profile N scans in-process and print the top")
    args = parser.parse_args()
    if args.pg:
        from workshop.config import normalise_database_url

        args.pg = normalise_database_url(args.pg)
    with tempfile.TemporaryDirectory(prefix="bench-checkin-") as name:
        tmp = Path(name)
        if args.profile:
            profile(tmp, args.profile)
            return
        measure(sqlite_url(tmp), "SQLite", args, tmp)
        if args.pg:
            measure(args.pg, "PostgreSQL", args, tmp)


if __name__ == "__main__":
    main()
