"""Shared pieces of the benchmarks: the apps gunicorn serves, starting and stopping it,
fresh databases, and a multi-process HTTP load generator that records latencies.

gunicorn loads the apps through the factories here, configured from the environment:
``bench._server:workshop_app()`` (the real app: BENCH_DATABASE_URL, BENCH_MAIL_DIR,
BENCH_MAIL_ATTACHMENTS=0 to leave the PDF ticket and calendar file out of the mails,
BENCH_MAIL_DELIVERY=background|inline|outbox for the app's MAIL_DELIVERY)
and ``bench._server:trivial_app()`` (one Flask route answering a small JSON object: the
yardstick every figure is divided by), plus ``bench._server:bare_app()`` for check-in (a
bare Flask-SQLAlchemy lookup + insert + commit, the issue's reference point).
"""

import contextlib
import functools
import http.client
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
READY_PATHS = {
    "workshop_app()": "/api/v1/openapi.json",
    "trivial_app()": "/ping",
    "bare_app()": "/ping",
}


# --- the apps gunicorn serves ------------------------------------------------------


def workshop_app():
    from workshop import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
            "SECRET_KEY": "bench-secret",
            # As deployed: limits on (memory storage, per worker). Organizer calls have
            # 3,000 a minute and valid scans are never counted, so the runs stay below them.
            "RATELIMIT_ENABLED": True,
            "MAIL_FILE_DIR": os.environ["BENCH_MAIL_DIR"],
            # background (the default: the worker's sender thread), inline (in the
            # request) or outbox (left for `flask send-mail`)
            "MAIL_DELIVERY": os.environ.get("BENCH_MAIL_DELIVERY", "background"),
        }
    )
    from workshop.services import mail

    if os.environ.get("BENCH_MAIL_ATTACHMENTS") == "0":
        mail.KIND_ATTACHMENTS.clear()
    return app


def trivial_app():
    from flask import Flask

    app = Flask("trivial")

    @app.get("/ping")
    def ping():
        return {"ok": True}

    return app


def bare_app():
    """The issue's yardstick for check-in: a bare Flask-SQLAlchemy endpoint that looks a
    code up, inserts one row and commits (no auth, no rules), on BENCH_DATABASE_URL in
    tables of its own (bare_ticket, bare_checkin); SQLite with the app's WAL settings."""
    from flask import Flask, request

    bare_db, BareTicket, BareCheckin = _bare_models()
    app = Flask("bare")
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["BENCH_DATABASE_URL"]
    bare_db.init_app(app)
    with app.app_context():
        if bare_db.engine.dialect.name == "sqlite":
            _sqlite_wal(bare_db.engine)

    @app.get("/ping")
    def ping():
        return {"ok": True}

    @app.post("/scan")
    def scan():
        code = request.get_json()["code"]
        ticket = bare_db.session.scalar(bare_db.select(BareTicket).where(BareTicket.code == code))
        bare_db.session.add(BareCheckin(ticket_id=ticket.id))
        bare_db.session.commit()
        return {"result": "ok"}

    return app


def _sqlite_wal(engine) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@functools.cache
def _bare_models():
    """The bare app's Flask-SQLAlchemy object and models, made on first use: the client
    processes of the load generator import this module and should start in no time."""
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import ForeignKey, String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class BareBase(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=BareBase)

    class Ticket(BareBase):
        __tablename__ = "bare_ticket"
        id: Mapped[int] = mapped_column(primary_key=True)
        code: Mapped[str] = mapped_column(String(64), unique=True)

    class Checkin(BareBase):
        __tablename__ = "bare_checkin"
        id: Mapped[int] = mapped_column(primary_key=True)
        ticket_id: Mapped[int] = mapped_column(ForeignKey("bare_ticket.id"), unique=True)

    return db, Ticket, Checkin


def prepare_bare(url: str, codes: list[str]) -> None:
    """The bare app's tables, filled with ``codes``."""
    import sqlalchemy as sa

    bare_db, BareTicket, _checkin = _bare_models()
    engine = sa.create_engine(url)
    bare_db.metadata.drop_all(engine)
    bare_db.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(BareTicket.__table__), [{"code": code} for code in codes])
    engine.dispose()


# --- databases ---------------------------------------------------------------------


def sqlite_url(directory: Path) -> str:
    return "sqlite:///" + str(directory / "bench.sqlite3")


def fresh_schema(url: str) -> None:
    """An empty, migrated database at ``url`` (PostgreSQL: the public schema is dropped)."""
    import sqlalchemy as sa

    from workshop import create_app
    from workshop.config import normalise_database_url
    from workshop.extensions import db

    if url.startswith("postgres"):
        engine = sa.create_engine(normalise_database_url(url))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()


def bench_app(url: str):
    from workshop import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret", "SERVER_NAME": "bench"}
    )


# --- gunicorn ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerSpec:
    app: str  # "bench._server:workshop_app()" or "bench._server:trivial_app()"
    worker_class: str = "sync"  # or "gthread"
    threads: int = 1
    env: dict = field(default_factory=dict)

    def label(self) -> str:
        if self.worker_class == "gthread":
            return f"gthread {WORKERS}x{self.threads}"
        return f"sync {WORKERS}"


@contextlib.contextmanager
def gunicorn(spec: ServerSpec) -> Iterator[int]:
    """Serve ``spec`` on a free loopback port; yields the port once it answers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        spec.worker_class,
        "--threads",
        str(spec.threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "256",
        "--timeout",
        "120",
        "--preload",
        "--log-level",
        "warning",
        spec.app,
    ]
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept when the server logged errors
        prefix="bench-gunicorn-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **spec.env}, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while not _answers(port, READY_PATHS[spec.app.split(":")[1]]):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log.name}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.1)
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        errors = Path(log.name).read_text(errors="replace")
        if "Traceback" in errors:
            print(f"  (server errors logged in {log.name})", file=sys.stderr)
        else:
            os.unlink(log.name)


def _answers(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


# --- load ----------------------------------------------------------------------------

# A job is a list of requests (method, path, body, token); each client thread works
# through its own job with its own connection, all threads released together.


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]  # seconds
    statuses: Counter
    results: Counter  # the API's "result" or "status" field, when there is one

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @classmethod
    def pooled(cls, runs: list["Result"]) -> "Result":
        """Several runs as one: their requests over their summed time, latencies pooled."""
        return cls(
            requests=sum(r.requests for r in runs),
            seconds=sum(r.seconds for r in runs),
            latencies=[x for r in runs for x in r.latencies],
            statuses=sum((r.statuses for r in runs), Counter()),
            results=sum((r.results for r in runs), Counter()),
        )

    def summary(self) -> str:
        return (
            f"{self.rate:8.1f}/s  p50 {self.percentile(50) * 1000:6.1f} ms  "
            f"p99 {self.percentile(99) * 1000:6.1f} ms  mean "
            f"{statistics.fmean(self.latencies) * 1000:6.1f} ms  ({self.requests} requests)"
        )


def _client_thread(port, job, start, out, interval):
    """Send the job's requests one after another on one connection; with ``interval``,
    start one every ``interval`` seconds (a paced scanner) instead of back to back."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies, statuses, results = [], Counter(), Counter()
    start.wait()
    first = time.monotonic()
    # Paced scanners are independent doors: each starts at its own moment within the
    # interval, not all twenty in lockstep (which would measure bursts of twenty).
    due = first + (random.uniform(0, interval) if interval else 0)
    for method, path, body, token in job:
        if interval:
            time.sleep(max(0.0, due - time.monotonic()))
            due += interval
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        began = time.monotonic()
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (ConnectionError, http.client.HTTPException):
            conn.close()
            status, raw = 599, b""
        latencies.append(time.monotonic() - began)
        statuses[status] += 1
        with contextlib.suppress(ValueError, AttributeError):
            parsed = json.loads(raw)
            results[parsed.get("result") or parsed.get("status") or "-"] += 1
    out.append((first, time.monotonic(), latencies, statuses, results))
    conn.close()


def _client_process(port, jobs, barrier, queue, interval):
    out: list = []
    # No thread sends before every client process is ready: the last of this process's
    # threads to arrive waits at the processes' barrier, then all of them are released.
    # (A process still starting up would otherwise take CPU from the timed requests of
    # the others, and its threads would start, and finish, up to seconds later.)
    start = threading.Barrier(len(jobs), action=lambda: barrier.wait(timeout=120))
    threads = [
        threading.Thread(target=_client_thread, args=(port, job, start, out, interval))
        for job in jobs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(out)


def run_load(port: int, jobs: list[list], processes: int, interval: float = 0) -> Result:
    """Run one thread per job, spread over ``processes`` client processes (so that the
    client is not one interpreter's GIL), all starting at the same moment; with
    ``interval``, each thread sends one request every ``interval`` seconds."""
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(processes), context.Queue()
    shares = [jobs[i::processes] for i in range(processes)]
    children = [
        context.Process(target=_client_process, args=(port, share, barrier, queue, interval))
        for share in shares
    ]
    for child in children:
        child.start()
    threads = [item for _ in children for item in queue.get(timeout=600)]
    for child in children:
        child.join()
    begin = min(t[0] for t in threads)
    end = max(t[1] for t in threads)
    latencies = [x for t in threads for x in t[2]]
    return Result(
        requests=len(latencies),
        seconds=end - begin,
        latencies=latencies,
        statuses=sum((t[3] for t in threads), Counter()),
        results=sum((t[4] for t in threads), Counter()),
    )


def split(requests: list, parts: int) -> list[list]:
    return [requests[i::parts] for i in range(parts)]


def trivial_jobs(total: int, clients: int) -> list[list]:
    return split([("GET", "/ping", None, None)] * total, clients)


def warm_up(port: int, path: str, count: int = 40) -> None:
    """A few requests so that every worker has imported and connected before timing."""
    for _ in range(count):
        _answers(port, path)


def load_average() -> str:
    with contextlib.suppress(OSError):
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"
    return "load average unknown"
