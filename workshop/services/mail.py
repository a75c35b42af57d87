"""Outgoing mail through an outbox table: queue in the transaction, deliver after commit.

Transport: SMTP when MAIL_SERVER is set (MAIL_PORT, MAIL_USE_TLS for STARTTLS,
MAIL_USE_SSL, MAIL_USERNAME, MAIL_PASSWORD, MAIL_TIMEOUT); otherwise each message is
written as an .eml file under MAIL_FILE_DIR (default instance/mail) and logged, so the
app works offline. A failed delivery stays pending with its error and is retried by
``flask send-mail``; after MAIL_MAX_ATTEMPTS it is marked failed and an organizer can
resend it.
"""

import atexit
import os
import queue as queue_module
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from functools import partial
from pathlib import Path

from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import or_

from workshop.models import MailStatus, OutgoingMail, Registration, db, utcnow
from workshop.services.locking import run_in_write_transaction
from workshop.services.registration_lists import waitlist_position
from workshop.urls import external_url

# kind -> renderer(registration) -> (filename, content_type, bytes), or None when the
# registration no longer has that attachment (e.g. cancelled before a retry); features add
# theirs at app start (the ticket PDF: services.tickets.register_mail_attachments, called
# by the factory) without the outbox knowing them.
ATTACHMENTS: dict[str, Callable[[Registration], tuple[str, str, bytes] | None]] = {}
# mail kind -> attachment kinds to add when sending
KIND_ATTACHMENTS: dict[str, list[str]] = {}

SUBJECTS = {
    "registration.confirmed": lambda title: _("Pendaftaran terkonfirmasi: %(t)s", t=title),
    "registration.waitlisted": lambda title: _("Anda di daftar tunggu: %(t)s", t=title),
    "registration.promoted": lambda title: _("Anda mendapat tempat: %(t)s", t=title),
    "registration.cancelled": lambda title: _("Pendaftaran dibatalkan: %(t)s", t=title),
    "registration.manage_link": lambda title: _("Tautan pendaftaran Anda: %(t)s", t=title),
}


def registration_mail_row(to: str) -> dict:
    """The outbox row of a mail to a registrant, but for what ``registration_mail``
    adds. Its text is composed from templates/mail/ when it is sent (``compose``), in the
    language of now, with links to the address the person used now (outside a request:
    BASE_URL)."""
    return {
        "to": to,
        "locale": str(get_locale() or "id"),
        "body_text": None,
        "params": {"base_url": _site_address() if has_request_context() else None},
    }


def _site_address() -> str:
    """The request's ``url_root`` (scheme, host, script root), without werkzeug's IRI
    decoding of the whole URL: it is only joined with paths built by ``url_for``."""
    return f"{request.scheme}://{request.host}{request.script_root}/"


def registration_mail(
    row: dict,
    kind: str,
    *,
    event_title: str,
    position: int | None,
    registration_id: int | None = None,
) -> dict:
    """The whole outbox row of the mail of ``kind`` about a registration, ``row`` from
    ``registration_mail_row``; ``position``: its place on the waiting list, as it is now.
    ``registration_id`` may be left for the caller that inserts the registration with it
    (``registration.place``)."""
    return {
        **row,
        "subject": SUBJECTS[kind](event_title)[:300],
        "kind": kind,
        "registration_id": registration_id,
        "attachments": [{"kind": k} for k in KIND_ATTACHMENTS.get(kind, [])] or None,
        "params": {**row["params"], "position": position},
        "status": MailStatus.PENDING.value,
        "attempts": 0,
        "created_at": utcnow(),
    }


def queue_registration_mail(
    reg: Registration, kind: str, flush: bool = True, position: int | None | bool = False
) -> OutgoingMail:
    """Queue the mail of ``kind`` for a registration (see ``registration_mail``).

    ``position``: the waiting-list position when the caller already knows it (bulk)."""
    message = OutgoingMail(
        **registration_mail(
            registration_mail_row(reg.email),
            kind,
            registration_id=reg.id,
            event_title=reg.event.title,
            position=waitlist_position(reg) if position is False else position,
        )
    )
    db.session.add(message)
    if flush:
        db.session.flush()
    return message


class MailGone(LookupError):
    """The registration a queued message was about no longer exists."""


def compose(mail: OutgoingMail) -> tuple[str, str | None]:
    """The message's text and HTML: composed now for a registration's mail (in the current
    language: ``deliver`` sets the mail's own), or as stored by a version that composed
    mail when it was queued (rows from before migration 0006)."""
    if mail.body_text is not None:
        return mail.body_text, mail.body_html
    reg = db.session.get(Registration, mail.registration_id) if mail.registration_id else None
    if reg is None:
        raise MailGone(f"registration {mail.registration_id} no longer exists")
    params = mail.params or {}
    base = params.get("base_url")
    context = {
        "reg": reg,
        "event": reg.event,
        "manage_url": external_url("registration.manage", _base=base, token=reg.manage_token),
        "event_url": external_url("public.event_detail", _base=base, event_id=reg.event_id),
        "position": params.get("position"),
    }
    name = mail.kind.replace(".", "_")
    return (
        render_template(f"mail/{name}.txt", **context),
        render_template(f"mail/{name}.html", **context),
    )


def build_message(mail: OutgoingMail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config.get("MAIL_DEFAULT_SENDER") or "Workshop <workshop@localhost>"
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain="workshop")
    text, html = compose(mail)
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    if mail.attachments and mail.registration_id:
        reg = db.session.get(Registration, mail.registration_id)
        for spec in mail.attachments:
            renderer = ATTACHMENTS.get(spec.get("kind"))
            rendered = renderer(reg) if reg is not None and renderer is not None else None
            if rendered is not None:
                filename, content_type, data = rendered
                maintype, subtype = content_type.split("/", 1)
                message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 587)
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def _write_file(message: EmailMessage, mail_id: int) -> Path:
    directory = Path(
        current_app.config.get("MAIL_FILE_DIR") or Path(current_app.instance_path) / "mail"
    )
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = directory / f"{stamp}-{mail_id}.eml"
    path.write_bytes(bytes(message))
    current_app.logger.info("Mail %s to %s written to %s", mail_id, message["To"], path)
    return path


def deliver(mail_ids: list[int]) -> dict[str, int]:
    """Send the given pending messages now; each outcome is committed. Never raises for
    a transport failure: the message stays pending (or failed) with the error kept.

    Each message is claimed first (its own short write transaction), so that a request's
    background sender and `flask send-mail` running at the same moment never send one
    message twice."""
    result = {"sent": 0, "failed": 0}
    max_attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS") or 5)
    for mail_id in mail_ids:
        if not run_in_write_transaction(partial(_claim, mail_id)):
            continue  # sent, given up, gone, or another sender has it
        mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
        error = None
        try:
            with force_locale(mail.locale or "id"):
                message = build_message(mail)
            if current_app.config.get("MAIL_SERVER"):
                _send_smtp(message)
            else:
                _write_file(message, mail.id)
        except (OSError, smtplib.SMTPException, MailGone) as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            current_app.logger.warning("Mail %s to %s not sent: %s", mail.id, mail.to, exc)
        # The outcome is written in a write transaction of its own: on SQLite a transaction
        # that has read and then writes fails at once ("database is locked") when another
        # process committed in between, which parallel registrations make likely.
        run_in_write_transaction(partial(_record_attempt, mail_id, error, max_attempts))
        result["failed" if error else "sent"] += 1
    return result


def _claim(mail_id: int) -> bool:
    """Mark a pending message as being sent by this sender; False when it is not pending
    or another sender claimed it less than MAIL_CLAIM_LEASE seconds ago."""
    now = datetime.now(UTC)
    lease = timedelta(seconds=int(current_app.config.get("MAIL_CLAIM_LEASE") or 300))
    claimed = db.session.execute(
        db.update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.status == MailStatus.PENDING,
            or_(OutgoingMail.claimed_at.is_(None), OutgoingMail.claimed_at < now - lease),
        )
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def _record_attempt(mail_id: int, error: str | None, max_attempts: int) -> None:
    mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
    mail.attempts += 1
    mail.claimed_at = None
    if error is None:
        mail.status, mail.sent_at, mail.last_error = MailStatus.SENT, datetime.now(UTC), None
    else:
        mail.last_error = error
        if mail.attempts >= max_attempts:
            mail.status = MailStatus.FAILED


# --- when to deliver -----------------------------------------------------------------


def dispatch(mail_ids: list[int]) -> None:
    """Deliver messages the caller has just committed, the way MAIL_DELIVERY says:

    - ``background`` (the default): a sender thread of this process delivers them after
      the answer, in the first pause between requests (``_Sender``), so a participant
      never waits for the PDF ticket or a slow mail server. Whatever it has not sent when
      the process stops stays pending in the outbox for `flask send-mail`.
    - ``inline``: now, before the caller goes on (the tests; scripts).
    - ``outbox``: not here at all; `flask send-mail` (from cron) delivers them.
    """
    ids = [i for i in mail_ids if i is not None]
    if not ids:
        return
    how = current_app.config.get("MAIL_DELIVERY", "background")
    if how == "inline":
        deliver(ids)
    elif how == "background":
        _background_sender(current_app._get_current_object()).put(ids)
    elif how != "outbox":
        raise ValueError(f"MAIL_DELIVERY must be background, inline or outbox, not {how!r}")


class _Activity:
    """Requests in flight in this process, and when the last one ended (the sender thread
    waits for a pause in them)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = 0
        self.last_end = 0.0

    def started(self) -> None:
        with self.lock:
            self.in_flight += 1

    def ended(self, _exc=None) -> None:
        with self.lock:
            self.in_flight = max(self.in_flight - 1, 0)
            self.last_end = time.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        return not self.in_flight and time.monotonic() - self.last_end >= seconds


activity = _Activity()

LOADAVG = "/proc/loadavg"  # Linux: its fourth field is "runnable tasks/all tasks"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_to_spare() -> bool:
    """Whether the machine has a CPU that nobody else wants right now: the tasks ready to
    run, the asking thread included, are no more than its CPUs. The other server
    processes (and the database) answer requests while this one rests; a message sent
    then takes their CPU. True where that cannot be read (not Linux)."""
    try:
        with open(LOADAVG, "rb") as source:
            runnable = int(source.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return True
    return runnable <= _cpus()


def track_requests(app) -> None:
    """Let this process's sender thread see the requests (the factory calls this)."""
    app.before_request(activity.started)
    app.teardown_request(activity.ended)


class _Sender:
    """One daemon thread per process that delivers queued ids in an app context.

    Mail yields to requests: the thread sends when the process has had no request for
    MAIL_SENDER_QUIET seconds (default 0.1) and the machine has a CPU to spare (the
    other server processes may be busy while this one rests), or once a message has
    waited MAIL_SENDER_MAX_WAIT seconds (default 30). Rendering a confirmation (the PDF
    ticket with its QR code) costs several times a registration, so when the whole
    regency registers at once the answers come first and the mail follows the burst; at
    the usual pace it goes out a tenth of a second after the answer."""

    def __init__(self, app):
        self.app = app
        self.quiet = float(app.config.get("MAIL_SENDER_QUIET", 0.1))
        self.max_wait = float(app.config.get("MAIL_SENDER_MAX_WAIT", 30))
        self.queue: queue_module.Queue[tuple[float, list[int]]] = queue_module.Queue()
        self.thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
        self.thread.start()
        atexit.register(self.drain, timeout=10)

    def put(self, ids: list[int]) -> None:
        self.queue.put((time.monotonic(), ids))

    def _wait_for_a_pause(self, queued_at: float) -> None:
        deadline = queued_at + self.max_wait
        while (
            not (activity.quiet_for(self.quiet) and cpu_to_spare()) and time.monotonic() < deadline
        ):
            time.sleep(self.quiet / 2)

    def _run(self) -> None:
        while True:
            queued_at, ids = self.queue.get()
            try:
                self._wait_for_a_pause(queued_at)
                with self.app.app_context():
                    try:
                        deliver(ids)
                    finally:
                        db.session.remove()
            except Exception:
                self.app.logger.exception("Background mail delivery failed for %s", ids)
            finally:
                self.queue.task_done()

    def drain(self, timeout: float = 10) -> bool:
        """Wait until every queued id was tried (at most ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


_senders: dict[tuple[int, int], _Sender] = {}
_senders_lock = threading.Lock()


def _background_sender(app) -> _Sender:
    # Keyed by process too: a server that forks workers after loading the app (gunicorn
    # --preload) must start a thread in each worker, not inherit a dead one.
    key = (os.getpid(), id(app))
    with _senders_lock:
        sender = _senders.get(key)
        if sender is None:
            sender = _senders[key] = _Sender(app)
        return sender


def wait_for_background(app, timeout: float = 10) -> bool:
    """Block until this process's sender for ``app`` has tried everything queued so far
    (tests, benchmarks, and a clean shutdown)."""
    sender = _senders.get((os.getpid(), id(app)))
    return sender is None or sender.drain(timeout)


def send_pending(limit: int = 500) -> dict[str, int]:
    """Retry every pending message (oldest first); used by `flask send-mail`."""
    ids = list(
        db.session.scalars(
            db.select(OutgoingMail.id)
            .where(OutgoingMail.status == MailStatus.PENDING)
            .order_by(OutgoingMail.id)
            .limit(limit)
        )
    )
    return deliver(ids)


def resend(mail_id: int) -> OutgoingMail | None:
    """Put a message (sent or failed) back in the queue and try it now."""
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None:
        return None
    mail.status, mail.attempts, mail.claimed_at = MailStatus.PENDING, 0, None
    db.session.commit()
    deliver([mail.id])
    return mail
