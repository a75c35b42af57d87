"""Registrations per second through HTTP under gunicorn (4 sync workers), on SQLite and,
with --pg, on PostgreSQL, next to a trivial Flask endpoint served the same way.

    .venv/bin/python -m bench.registration
    .venv/bin/python -m bench.registration --pg postgresql://postgres@127.0.0.1:55433/bench_db

The PostgreSQL database is WIPED (its public schema is dropped). Each registration goes
through POST /api/v1/events/<id>/registrations with an organizer token: validation, the
locked placement and the confirmation mail queued in the same transaction; its delivery
(the PDF e-ticket and calendar file attached, written as an .eml file as without SMTP) is
measured three ways, the app's MAIL_DELIVERY settings: "mail in request" (inline: the
answer waits for it), "background mail" (the default: each worker's sender thread, which
sends in the pauses between requests; and how long after the last answer the last mail
went out) and "outbox only" (left for `flask send-mail`: the registration alone), with
``bare_app()`` for reference (a bare Flask-SQLAlchemy endpoint that looks a code up,
inserts a row and commits: what the least write through the same stack costs here). The
servers are loaded in turn over --rounds rounds; each of those runs follows a run of
--trivial requests to the trivial server made the moment before, and its ratio is to
that one.
--profile N prints where the time of N registrations goes (cProfile, in-process, SQLite).
"""

import argparse
import contextlib
import cProfile
import pstats
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
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


def prepare(
    url: str, variants: list[str], capacity: int | None = None
) -> tuple[str, dict[str, int]]:
    """An organizer's token and one published, open event per variant (with ``capacity``
    seats; None: no limit)."""
    from workshop.extensions import db
    from workshop.models import EventStatus, Role, User
    from workshop.services.events import EventInput, create_event
    from workshop.services.users import issue_token

    app = bench_app(url)
    with app.app_context():
        owner = User(
            email="bench@example.com",
            name="Bench",
            role=Role.ORGANIZER,
            password_hash="!unusable",  # noqa: S106 - no password: token only
        )
        db.session.add(owner)
        start = datetime.now(UTC) + timedelta(days=30)
        events = {}
        for variant in variants:
            event = create_event(
                owner,
                EventInput(
                    title=f"Bench {variant}",
                    venue="Pangripta",
                    starts_at=start,
                    ends_at=start + timedelta(hours=8),
                    capacity=capacity,
                ),
            )
            event.status = EventStatus.PUBLISHED
            db.session.flush()
            events[variant] = event.id
        token = issue_token(owner)
        db.session.commit()
        db.engine.dispose()
    return token, events


def registration_jobs(event_id: int, token: str, total: int, clients: int, tag: str):
    requests = [
        (
            "POST",
            f"/api/v1/events/{event_id}/registrations",
            {
                "name": f"Peserta Bench {n}",
                "email": f"bench-{tag}-{n}@muaraenimkab.go.id",
                "phone": "0812-3456-7890",
                "employment_status": "non_asn",
                "position": "Analis Kebijakan",
                "institution": "Pemerintah Kabupaten Muara Enim",
            },
            token,
        )
        for n in range(total)
    ]
    return split(requests, clients)


VARIANTS = {  # label -> MAIL_DELIVERY
    "mail in request": "inline",
    "background mail": "background",
    "outbox only": "outbox",
}


def pending_mails(url: str, event_id: int | None = None) -> int:
    """Messages still pending (about one event's registrations, when given)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(
                sa.text(
                    "SELECT count(*) FROM outgoing_mail JOIN registration"
                    " ON registration.id = outgoing_mail.registration_id"
                    " WHERE outgoing_mail.status = 'pending'"
                    " AND (:event_id IS NULL OR registration.event_id = :event_id)"
                ),
                {"event_id": event_id},
            )
    finally:
        engine.dispose()


def wait_for_mail(url: str, event_id: int, timeout: float = 600) -> float:
    """Seconds until no message about the event's registrations is pending."""
    began = time.monotonic()
    while pending_mails(url, event_id) and time.monotonic() - began < timeout:
        time.sleep(0.1)
    return time.monotonic() - began


def measure(url: str, label: str, args, tmp: Path) -> None:
    """The trivial server, the bare one and one server per MAIL_DELIVERY run side by side
    (idle servers cost nothing) and are loaded in turn, round after round, each run just
    after a trivial run of its own: on a shared machine whose other work drifts within
    seconds, each ratio compares two runs made one after the other. The background
    sender's mail is left to drain before the next run (and timed after the last), so
    that it does not load it."""
    fresh_schema(url)
    names = [*VARIANTS, *(f"warm-up {v}" for v in VARIANTS)]
    token, events = prepare(url, names, args.capacity)
    rounds, per_round = args.rounds, args.requests // args.rounds
    bare_codes = [secrets.token_urlsafe(32) for _ in range(per_round * rounds)]
    prepare_bare(url, bare_codes)
    seats = "no capacity" if args.capacity is None else f"capacity {args.capacity}"
    print(f"\n{label}, events with {seats}  ({load_average()})")
    env = {"BENCH_DATABASE_URL": url, "BENCH_MAIL_DIR": str(tmp / "mail")}
    specs = {
        variant: ServerSpec(
            "bench._server:workshop_app()", env={**env, "BENCH_MAIL_DELIVERY": delivery}
        )
        for variant, delivery in VARIANTS.items()
    }
    trivials: dict[str, list[Result]] = {}  # measured run -> the trivial runs just before it
    ratios: dict[str, list[float]] = {}
    bares: list[Result] = []
    results: dict[str, list[Result]] = {v: [] for v in VARIANTS}
    drained = 0.0
    with contextlib.ExitStack() as stack:
        trivial_port = stack.enter_context(gunicorn(ServerSpec("bench._server:trivial_app()")))
        bare_port = stack.enter_context(gunicorn(ServerSpec("bench._server:bare_app()", env=env)))
        ports = {v: stack.enter_context(gunicorn(spec)) for v, spec in specs.items()}
        warm_up(trivial_port, "/ping")
        warm_up(bare_port, "/ping")
        for variant, port in ports.items():  # every worker compiles its statements
            run_load(
                port,
                registration_jobs(
                    events[f"warm-up {variant}"], token, 40, 8, f"warm-{variant}".replace(" ", "-")
                ),
                args.processes,
            )
            if VARIANTS[variant] != "outbox":
                wait_for_mail(url, events[f"warm-up {variant}"])

        def paired(port: int, jobs: list, key: str) -> Result:
            """Run ``jobs`` on ``port`` right after a trivial run, kept for ``key``."""
            trivials.setdefault(key, []).append(
                run_load(trivial_port, trivial_jobs(args.trivial, args.clients), args.processes)
            )
            measured = run_load(port, jobs, args.processes)
            ratios.setdefault(key, []).append(measured.rate / trivials[key][-1].rate)
            return measured

        for n in range(rounds):
            codes = bare_codes[n * per_round : (n + 1) * per_round]
            bares.append(
                paired(
                    bare_port,
                    split(
                        [("POST", "/scan", {"code": code}, None) for code in codes], args.clients
                    ),
                    "bare",
                )
            )
            for variant, port in ports.items():
                count = per_round if VARIANTS[variant] != "inline" else args.inline // rounds
                jobs = registration_jobs(
                    events[variant], token, count, args.clients, f"{variant.replace(' ', '-')}-{n}"
                )
                results[variant].append(paired(port, jobs, variant))
                if VARIANTS[variant] == "background":
                    drained = wait_for_mail(url, events[variant])
    trivial = Result.pooled([run for runs in trivials.values() for run in runs])
    bare = Result.pooled(bares)
    assert dict(bare.statuses) == {200: bare.requests}, bare.statuses
    print(f"  trivial endpoint              {trivial.summary()}")

    def ratio(key: str, result: Result) -> str:
        """The pooled ratio to the trivial runs made just before, and each round's."""
        each = ", ".join(f"{r:.3f}" for r in ratios[key])
        return f"ratio {result.rate / Result.pooled(trivials[key]).rate:.3f}x (rounds {each})"

    print(f"  bare FSA (lookup, insert)     {bare.summary()}  {ratio('bare', bare)}")
    for variant, runs in results.items():
        result = Result.pooled(runs)
        assert dict(result.statuses) == {201: result.requests}, result.statuses
        print(
            f"  register ({variant:15}) {result.summary()}  {ratio(variant, result)}; "
            f"{result.rate / bare.rate:.2f} of bare"
        )
        if VARIANTS[variant] == "background":
            print(
                f"      the last round's mail all delivered {drained:.1f} s after its last "
                f"answer: {runs[-1].requests / (runs[-1].seconds + drained):.1f} "
                f"registrations with their mail per s"
            )
        if VARIANTS[variant] == "outbox":
            pending = pending_mails(url, events[variant])
            assert pending == result.requests, pending
    _clear_outbox(url)


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
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret",
            "RATELIMIT_ENABLED": False,
            "MAIL_FILE_DIR": str(tmp / "mail"),
            "MAIL_DELIVERY": "inline",
        }
    )  # the mail's cost shows in the profile
    client = app.test_client()
    jobs = registration_jobs(events["profile"], token, count, 1, "profile")[0]
    profiler = cProfile.Profile()
    profiler.enable()
    for method, path, body, _ in jobs:
        response = client.open(
            path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, response.get_json()
    profiler.disable()
    with app.app_context():
        db.engine.dispose()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="PostgreSQL URL of a database the benchmark may wipe")
    parser.add_argument(
        "--requests", type=int, default=1800, help="registrations per mail mode, over all rounds"
    )
    parser.add_argument(
        "--inline",
        type=int,
        default=240,
        help="registrations with the mail sent in the request, over all rounds",
    )
    parser.add_argument(
        "--trivial",
        type=int,
        default=2000,
        help="trivial requests run just before each measured run (the bare endpoint's and "
        "each mail mode's, every round)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="the servers are loaded in turn, this many times"
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument(
        "--capacity",
        type=int,
        help="seats of the events (default: no "
        "limit; the seats taken are then not counted). Above the "
        "registrations sent, so that every one is confirmed",
    )
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="only profile N registrations in-process and print the top",
    )
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
