"""A real multi-process server for the concurrency tests: gunicorn, 4 sync workers, loopback.

The server uses the suite's own database (tests/conftest.py ``database_url``: a SQLite
file, or the PostgreSQL database of WORKSHOP_TEST_DATABASE_URL), so tests prepare rows
with the usual factories and read the outcome from the database. The tables are wiped
after every test as usual; the server keeps running for the session.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.concurrency._http import wait_until_ready
from tests.conftest import FIXED_NOW
from workshop.extensions import db
from workshop.models import MailStatus, OutgoingMail
from workshop.services.users import issue_token

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


@dataclass
class LiveServer:
    port: int
    pid: int
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(database_url, tmp_path_factory):
    """gunicorn -w 4 (sync workers) on a free loopback port, ready when it answers.

    Ready means one worker answered; the others are forked at the same moment. The tests
    check from the X-Worker-Pid header that more than one process served them."""
    tmp = tmp_path_factory.mktemp("live")
    port = free_port()
    log = tmp / "gunicorn.log"
    env = {
        **os.environ,
        "WORKSHOP_LIVE_DATABASE_URL": database_url,
        "WORKSHOP_LIVE_SECRET_KEY": "live-test-secret",
        "WORKSHOP_LIVE_MAIL_DIR": str(tmp / "mail"),
        "WORKSHOP_LIVE_FIXED_NOW": FIXED_NOW.isoformat(),
        "WORKSHOP_LIVE_MAIL_ATTACHMENTS": "0",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--graceful-timeout",
        "5",
        # Import the app once and fork the workers: four parallel imports of the whole
        # app take many seconds on a small, busy machine. Nothing is connected before the
        # fork (the factory opens no connection), so each worker gets its own pool.
        "--preload",
        "tests.concurrency.wsgi_app:app",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def pause():  # waits on the process, so a crash ends the wait at once
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.1)

    try:
        wait_until_ready(port, lambda: process.poll() is None, 60, pause)
    except RuntimeError as exc:
        process.kill()
        process.wait()
        pytest.fail(f"gunicorn did not start: {exc}\n{log.read_text(errors='replace')}")
    yield LiveServer(port=port, pid=process.pid, log=log)
    process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def token_for(app):
    """A plain API token for ``user``."""

    def make(user) -> str:
        with app.app_context():
            token = issue_token(db.session.merge(user))
            db.session.commit()
        return token

    return make


@pytest.fixture(autouse=True)
def server_done_with_mail(app):
    """After each test, wait until the server's sender threads have sent every queued
    mail (MAIL_DELIVERY=background: they write after the answers went out). The next
    test prepares its rows from this process, and on SQLite a transaction that reads and
    then writes fails at once when another process committed in between."""
    yield
    deadline = time.monotonic() + 120
    with app.app_context():
        while True:
            pending = db.session.scalar(
                sa.select(sa.func.count(OutgoingMail.id)).where(
                    OutgoingMail.status == MailStatus.PENDING
                )
            )
            db.session.rollback()
            if not pending:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"the server still has {pending} mails to send after 120 s")
            time.sleep(0.05)
