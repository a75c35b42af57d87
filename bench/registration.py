"""Registrations per second through HTTP under gunicorn (4 sync workers), on SQLite and,
with --pg, on PostgreSQL, next to a trivial Flask endpoint served the same way.

    .venv/bin/python -m bench.registration
    .venv/bin/python -m bench.registration --pg postgresql://postgres@127.0.0.1:55433/bench_db

The PostgreSQL database is WIPED (its public schema is dropped). Each registration goes
through POST /api/v1/events/<id>/registrations with an organizer token: validation, the
locked placement and the confirmation mail queued in the same transaction; its delivery
(the PDF e-ticket and calendar file attached, written as an .eml file as without SMTP) is
measured three ways, the app's MAIL_DELIVERY settings: "mail in request" (inline: the
answer waits for it), "background mail" (the default: each worker's sender thread, and
how long after the last answer the last mail went out) and "outbox only" (left for
`flask send-mail`: the registration alone). --profile N prints where
the time of N registrations goes (cProfile, in-process, SQLite).
"""

import argparse
import cProfile
import pstats
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._server import (
    ServerSpec,
    bench_app,
    fresh_schema,
    gunicorn,
    load_average,
    run_load,
    split,
    sqlite_url,
    trivial_jobs,
    warm_up,
)


def prepare(url: str, variants: list[str]) -> tuple[str, dict[str, int]]:
    """An organizer's token and one published, open event per variant."""
    from workshop.extensions import db
    from workshop.models import EventStatus, Role, User
    from workshop.services.events import EventInput, create_event
    from workshop.services.users import issue_token

    app = bench_app(url)
    with app.app_context():
        owner = User(email="bench@example.com", name="Bench", role=Role.ORGANIZER,
                     password_hash="!unusable")  # noqa: S106 - no password: token only
        db.session.add(owner)
        start = datetime.now(UTC) + timedelta(days=30)
        events = {}
        for variant in variants:
            event = create_event(owner, EventInput(title=f"Bench {variant}", venue="Pangripta",
                                                   starts_at=start,
                                                   ends_at=start + timedelta(hours=8)))
            event.status = EventStatus.PUBLISHED
            db.session.flush()
            events[variant] = event.id
        token = issue_token(owner)
        db.session.commit()
        db.engine.dispose()
    return token, events


def registration_jobs(event_id: int, token: str, total: int, clients: int, tag: str):
    requests = [
        ("POST", f"/api/v1/events/{event_id}/registrations", {
            "name": f"Peserta Bench {n}",
            "email": f"bench-{tag}-{n}@muaraenimkab.go.id",
            "phone": "0812-3456-7890",
            "employment_status": "non_asn",
            "position": "Analis Kebijakan",
            "institution": "Pemerintah Kabupaten Muara Enim",
        }, token)
        for n in range(total)
    ]
    return split(requests, clients)


VARIANTS = {  # label -> MAIL_DELIVERY
    "mail in request": "inline",
    "background mail": "background",
    "outbox only": "outbox",
}


def pending_mails(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text(
                "SELECT count(*) FROM outgoing_mail WHERE status = 'pending'"))
    finally:
        engine.dispose()


def wait_for_mail(url: str, timeout: float = 600) -> float:
    """Seconds until the outbox has no pending message left."""
    began = time.monotonic()
    while pending_mails(url) and time.monotonic() - began < timeout:
        time.sleep(0.1)
    return time.monotonic() - began


def measure(url: str, label: str, args, tmp: Path) -> None:
    """The trivial endpoint before and after the variants; ratios against the mean of its
    two runs (the machine's load may drift during a run)."""
    fresh_schema(url)
    token, events = prepare(url, list(VARIANTS))
    print(f"\n{label}  ({load_average()})")
    trivial_spec = ServerSpec("bench._server:trivial_app()")
    trivial, results, drained = [], {}, {}
    with gunicorn(trivial_spec) as port:
        warm_up(port, "/ping")
        trivial.append(run_load(port, trivial_jobs(args.trivial, args.clients), args.processes))
    for variant, delivery in VARIANTS.items():
        env = {"BENCH_DATABASE_URL": url, "BENCH_MAIL_DIR": str(tmp / "mail"),
               "BENCH_MAIL_DELIVERY": delivery}
        with gunicorn(ServerSpec("bench._server:workshop_app()", env=env)) as port:
            warm_up(port, "/api/v1/openapi.json")
            jobs = registration_jobs(events[variant], token, args.requests, args.clients,
                                     variant.replace(" ", "-"))
            results[variant] = run_load(port, jobs, args.processes)
            if delivery == "background":
                drained[variant] = wait_for_mail(url)
        assert dict(results[variant].statuses) == {201: args.requests}, results[variant].statuses
        if delivery == "outbox":
            pending = pending_mails(url)
            assert pending == args.requests, pending
            _clear_outbox(url)
    with gunicorn(trivial_spec) as port:
        warm_up(port, "/ping")
        trivial.append(run_load(port, trivial_jobs(args.trivial, args.clients), args.processes))
    baseline = (trivial[0].rate + trivial[1].rate) / 2
    print(f"  trivial endpoint        {trivial[0].summary()}")
    print(f"  trivial endpoint again  {trivial[1].summary()}")
    for variant, result in results.items():
        print(f"  register ({variant:15}) {result.summary()}  "
              f"ratio {result.rate / baseline:.3f}x")
        if variant in drained:
            total = result.seconds + drained[variant]
            print(f"      every mail delivered {drained[variant]:.1f} s after the last answer: "
                  f"{result.requests / total:.1f} registrations with their mail per s")


def _clear_outbox(url: str) -> None:
    """The outbox-only run's mails are not sent (that is `flask send-mail`'s work)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE outgoing_mail SET status = 'sent' WHERE status = 'pending'"))
    engine.dispose()


def profile(tmp: Path, count: int) -> None:
    """cProfile of ``count`` registrations through the test client (one process, SQLite)."""
    from workshop import create_app
    from workshop.extensions import db

    url = sqlite_url(tmp)
    fresh_schema(url)
    token, events = prepare(url, ["profile"])
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "RATELIMIT_ENABLED": False, "MAIL_FILE_DIR": str(tmp / "mail"),
                      "MAIL_DELIVERY": "inline"})  # the mail's cost shows in the profile
    client = app.test_client()
    jobs = registration_jobs(events["profile"], token, count, 1, "profile")[0]
    profiler = cProfile.Profile()
    profiler.enable()
    for method, path, body, _ in jobs:
        response = client.open(path, method=method, json=body,
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.get_json()
    profiler.disable()
    with app.app_context():
        db.engine.dispose()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="PostgreSQL URL of a database the benchmark may wipe")
    parser.add_argument("--requests", type=int, default=400, help="registrations per run")
    parser.add_argument("--trivial", type=int, default=4000, help="trivial requests per run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="only profile N registrations in-process and print the top")
    args = parser.parse_args()
    if args.pg:
        from workshop.config import normalise_database_url

        args.pg = normalise_database_url(args.pg)
    with tempfile.TemporaryDirectory(prefix="bench-registration-") as name:
        tmp = Path(name)
        if args.profile:
            profile(tmp, args.profile)
            return
        measure(sqlite_url(tmp), "SQLite, gunicorn sync x4", args, tmp)
        if args.pg:
            measure(args.pg, "PostgreSQL, gunicorn sync x4", args, tmp)


if __name__ == "__main__":
    main()
