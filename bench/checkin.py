"""Check-ins per second and p50/p99 latency through HTTP under gunicorn, 20 concurrent
scanners, on SQLite and (with --pg) PostgreSQL, with sync and threaded (gthread)
workers, each next to a trivial Flask endpoint served the same way in the same run.

    .venv/bin/python -m bench.checkin
    .venv/bin/python -m bench.checkin --pg postgresql://postgres@127.0.0.1:55433/bench_db

The PostgreSQL database is WIPED (its public schema is dropped). Every scan is a real
first check-in of a different confirmed registration (POST /api/v1/checkins with a door
staff token) on an event taking place today. "bare FSA" is the issue's reference point:
a bare Flask-SQLAlchemy endpoint doing one lookup, one insert and a commit, served the
same way. The three servers run side by side and are loaded in turn, --rounds times
(the machine is shared: its background load drifts within seconds), each from 20
scanners sending back to back (closed loops: the capacity); the rates and latencies
are pooled over the rounds, and each round's own ratio is printed too. Then paced
runs: each of the 20 scanners scans once every --intervals seconds at its own moment
(0.5 s: 40 scans a second; 0.1 s: 200 a second), the latency a door sees at a set
rhythm. --profile N prints where the time of N scans goes (cProfile, in-process, SQLite).
"""

import argparse
import cProfile
import pstats
import secrets
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

from bench._server import (
    Result,
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
        owner = User(
            email="owner@example.com",
            name="Penyelenggara",
            role=Role.ORGANIZER,
            password_hash="!unusable",  # noqa: S106 - token-only users
        )
        staff = User(
            email="petugas@example.com",
            name="Petugas Pintu",
            role=Role.STAFF,
            password_hash="!unusable",  # noqa: S106
        )
        db.session.add_all([owner, staff])
        events = []
        for run in range(runs):
            event = create_event(
                owner,
                EventInput(
                    title=f"Bench presensi {run}",
                    venue="Pangripta",
                    starts_at=start,
                    ends_at=start + timedelta(hours=23, minutes=59),
                ),
            )
            event.status = EventStatus.PUBLISHED
            db.session.flush()
            assign_staff(event, staff, owner)
            codes = [secrets.token_urlsafe(32) for _ in range(per_run)]
            db.session.execute(
                sa.insert(Registration),
                [
                    {
                        "event_id": event.id,
                        "name": f"Peserta {run}-{n}",
                        "email": f"p{run}-{n}@example.com",
                        "employment_status": "non_asn",
                        "institution": "Pemerintah Kabupaten Muara Enim",
                        "role": "participant",
                        "status": "confirmed",
                        "check_in_code": code,
                    }
                    for n, code in enumerate(codes)
                ],
            )
            events.append((event.id, codes))
        token = issue_token(staff)
        db.session.commit()
        db.engine.dispose()
    return token, events


def scan_jobs(event_id: int, codes: list[str], token: str, clients: int) -> list[list]:
    return split(
        [
            ("POST", "/api/v1/checkins", {"code": code, "event_id": event_id}, token)
            for code in codes
        ],
        clients,
    )


def measure(url: str, label: str, args, tmp: Path) -> None:
    """The three servers run side by side (idle servers cost nothing) and are loaded in
    turn, round after round: on a shared machine whose background load drifts, each
    ratio then compares runs made within seconds of each other."""
    fresh_schema(url)
    rounds = args.rounds
    per_round = args.scans // rounds
    paces = [(interval, args.paced) for interval in args.intervals]
    token, events = prepare(url, len(SPECS), per_round * rounds + args.paced * len(paces))
    print(f"\n{label}  ({load_average()})")
    for (worker_class, threads), (event_id, codes) in zip(SPECS, events, strict=True):
        env = {"BENCH_DATABASE_URL": url, "BENCH_MAIL_DIR": str(tmp / "mail")}
        trivial_spec = ServerSpec("bench._server:trivial_app()", worker_class, threads)
        bare_spec = ServerSpec("bench._server:bare_app()", worker_class, threads, env)
        app_spec = ServerSpec("bench._server:workshop_app()", worker_class, threads, env)
        bare_codes = [secrets.token_urlsafe(32) for _ in range(per_round * rounds)]
        prepare_bare(url, bare_codes)
        trivials, bares, scans, ratios = [], [], [], []
        with (
            gunicorn(trivial_spec) as trivial_port,
            gunicorn(bare_spec) as bare_port,
            gunicorn(app_spec) as app_port,
        ):
            warm_up(trivial_port, "/ping")
            warm_up(bare_port, "/ping")
            warm_up(app_port, "/api/v1/openapi.json")
            for n in range(rounds):
                mine = slice(n * per_round, (n + 1) * per_round)
                trivials.append(
                    run_load(
                        trivial_port,
                        trivial_jobs(args.trivial // rounds, args.clients),
                        args.processes,
                    )
                )
                bares.append(
                    run_load(
                        bare_port,
                        split(
                            [("POST", "/scan", {"code": c}, None) for c in bare_codes[mine]],
                            args.clients,
                        ),
                        args.processes,
                    )
                )
                scans.append(
                    run_load(
                        app_port,
                        scan_jobs(event_id, codes[mine], token, args.clients),
                        args.processes,
                    )
                )
                ratios.append(scans[-1].rate / trivials[-1].rate)
            doors, first = [], per_round * rounds
            for interval, count in paces:
                doors.append(
                    run_load(
                        app_port,
                        scan_jobs(event_id, codes[first : first + count], token, args.clients),
                        args.processes,
                        interval=interval,
                    )
                )
                first += count
        trivial, bare, result = (Result.pooled(runs) for runs in (trivials, bares, scans))
        expected = [(result, per_round * rounds)]
        expected += [(door, count) for door, (_interval, count) in zip(doors, paces, strict=True)]
        for run, count in expected:
            assert dict(run.statuses) == {200: count}, run.statuses
            assert dict(run.results) == {"ok": count}, run.results
        assert dict(bare.statuses) == {200: per_round * rounds}, bare.statuses
        name = app_spec.label()
        each = ", ".join(f"{r:.3f}" for r in ratios)
        print(f"  {name:12} trivial  {trivial.summary()}")
        print(f"  {name:12} bare FSA {bare.summary()}  ratio {bare.rate / trivial.rate:.3f}x")
        print(
            f"  {name:12} check-in {result.summary()}  "
            f"ratio {result.rate / trivial.rate:.3f}x ({result.rate / bare.rate:.2f} of bare; "
            f"rounds {each})"
        )
        for (interval, _count), door in zip(paces, doors, strict=True):
            print(
                f"  {name:12} paced    {door.summary()}  "
                f"(each scanner one scan every {interval:g} s)"
            )


def profile(tmp: Path, count: int) -> None:
    from workshop import create_app
    from workshop.extensions import db

    url = sqlite_url(tmp)
    fresh_schema(url)
    token, [(event_id, codes)] = prepare(url, 1, count)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret",
            "RATELIMIT_ENABLED": False,
            "MAIL_FILE_DIR": str(tmp / "mail"),
        }
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    profiler = cProfile.Profile()
    profiler.enable()
    for code in codes:
        response = client.post(
            "/api/v1/checkins", json={"code": code, "event_id": event_id}, headers=headers
        )
        assert response.get_json()["result"] == "ok", response.get_json()
    profiler.disable()
    with app.app_context():
        db.engine.dispose()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="PostgreSQL URL of a database the benchmark may wipe")
    parser.add_argument("--scans", type=int, default=4500, help="check-ins in all rounds")
    parser.add_argument("--trivial", type=int, default=9000, help="trivial requests in all rounds")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="the runs are split into this many rounds, the apps in turn",
    )
    parser.add_argument("--clients", type=int, default=20, help="concurrent scanners")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument(
        "--paced",
        type=int,
        default=1000,
        help="check-ins in each paced run (doors at a set rhythm)",
    )
    parser.add_argument(
        "--intervals",
        type=float,
        nargs="+",
        default=[0.5, 0.1],
        help="seconds between two scans of one scanner, one paced run each",
    )
    parser.add_argument(
        "--profile", type=int, metavar="N", help="only profile N scans in-process and print the top"
    )
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
