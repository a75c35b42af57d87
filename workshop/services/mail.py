"""Outgoing mail through an outbox table: queue in the transaction, deliver after commit.

Transport: SMTP when MAIL_SERVER is set (MAIL_PORT, MAIL_USE_TLS for STARTTLS,
MAIL_USE_SSL, MAIL_USERNAME, MAIL_PASSWORD, MAIL_TIMEOUT); otherwise each message is
written as an .eml file under MAIL_FILE_DIR (default instance/mail) and logged, so the
app works offline. A failed delivery stays pending with its error and is retried by
``flask send-mail``; after MAIL_MAX_ATTEMPTS it is marked failed and an organizer can
resend it.
"""

import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from functools import partial
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from workshop.models import MailStatus, OutgoingMail, Registration, db
from workshop.services.locking import run_in_write_transaction
from workshop.urls import external_url

# kind -> renderer(registration) -> (filename, content_type, bytes), or None when the
# registration no longer has that attachment (e.g. cancelled before a retry); features add
# theirs at app start (the ticket PDF: services.tickets.register_mail_attachments, called
# by the factory) without the outbox knowing them.
ATTACHMENTS: dict[str, Callable[[Registration], tuple[str, str, bytes] | None]] = {}
# mail kind -> attachment kinds to add when sending
KIND_ATTACHMENTS: dict[str, list[str]] = {}

SUBJECTS = {
    "registration.confirmed": lambda r: _("Pendaftaran terkonfirmasi: %(t)s", t=r.event.title),
    "registration.waitlisted": lambda r: _("Anda di daftar tunggu: %(t)s", t=r.event.title),
    "registration.promoted": lambda r: _("Anda mendapat tempat: %(t)s", t=r.event.title),
    "registration.cancelled": lambda r: _("Pendaftaran dibatalkan: %(t)s", t=r.event.title),
    "registration.manage_link": lambda r: _("Tautan pendaftaran Anda: %(t)s", t=r.event.title),
}


def queue(to: str, subject: str, body_text: str, *, kind: str, body_html: str | None = None,
          registration_id: int | None = None, attachments: list | None = None,
          flush: bool = True) -> OutgoingMail:
    """Add a message to the outbox, in the caller's transaction (flushed unless told not
    to: a bulk caller flushes once for all its messages)."""
    message = OutgoingMail(
        to=to,
        subject=subject[:300],
        body_text=body_text,
        body_html=body_html,
        kind=kind,
        registration_id=registration_id,
        attachments=attachments,
    )
    db.session.add(message)
    if flush:
        db.session.flush()
    return message


def queue_registration_mail(reg: Registration, kind: str, flush: bool = True,
                            position: int | None | bool = False) -> OutgoingMail:
    """Compose the mail of ``kind`` for a registration from templates/mail/ and queue it.

    ``position``: the waiting-list position when the caller already knows it (bulk)."""
    from workshop.services.registration import waitlist_position

    context = {
        "reg": reg,
        "event": reg.event,
        "manage_url": external_url("registration.manage", token=reg.manage_token),
        "event_url": external_url("public.event_detail", event_id=reg.event_id),
        "position": waitlist_position(reg) if position is False else position,
    }
    name = kind.replace(".", "_")
    return queue(
        reg.email,
        SUBJECTS[kind](reg),
        render_template(f"mail/{name}.txt", **context),
        body_html=render_template(f"mail/{name}.html", **context),
        kind=kind,
        registration_id=reg.id,
        attachments=[{"kind": k} for k in KIND_ATTACHMENTS.get(kind, [])] or None,
        flush=flush,
    )


def build_message(mail: OutgoingMail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config.get("MAIL_DEFAULT_SENDER") or "Workshop <workshop@localhost>"
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain="workshop")
    message.set_content(mail.body_text)
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html")
    if mail.attachments and mail.registration_id:
        reg = db.session.get(Registration, mail.registration_id)
        for spec in mail.attachments:
            renderer = ATTACHMENTS.get(spec.get("kind"))
            rendered = renderer(reg) if reg is not None and renderer is not None else None
            if rendered is not None:
                filename, content_type, data = rendered
                maintype, subtype = content_type.split("/", 1)
                message.add_attachment(data, maintype=maintype, subtype=subtype,
                                       filename=filename)
    return message


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 587)
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def _write_file(message: EmailMessage, mail_id: int) -> Path:
    directory = Path(current_app.config.get("MAIL_FILE_DIR")
                     or Path(current_app.instance_path) / "mail")
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = directory / f"{stamp}-{mail_id}.eml"
    path.write_bytes(bytes(message))
    current_app.logger.info("Mail %s to %s written to %s", mail_id, message["To"], path)
    return path


def deliver(mail_ids: list[int]) -> dict[str, int]:
    """Send the given pending messages now; each outcome is committed. Never raises for
    a transport failure: the message stays pending (or failed) with the error kept."""
    result = {"sent": 0, "failed": 0}
    max_attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS") or 5)
    for mail_id in mail_ids:
        mail = db.session.get(OutgoingMail, mail_id)
        if mail is None or mail.status != MailStatus.PENDING:
            continue
        error = None
        try:
            with force_locale("id"):
                message = build_message(mail)
            if current_app.config.get("MAIL_SERVER"):
                _send_smtp(message)
            else:
                _write_file(message, mail.id)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            current_app.logger.warning("Mail %s to %s not sent: %s", mail.id, mail.to, exc)
        # The outcome is written in a write transaction of its own: on SQLite a transaction
        # that has read and then writes fails at once ("database is locked") when another
        # process committed in between, which parallel registrations make likely.
        run_in_write_transaction(partial(_record_attempt, mail_id, error, max_attempts))
        result["failed" if error else "sent"] += 1
    return result


def _record_attempt(mail_id: int, error: str | None, max_attempts: int) -> None:
    mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
    mail.attempts += 1
    if error is None:
        mail.status, mail.sent_at, mail.last_error = MailStatus.SENT, datetime.now(UTC), None
    else:
        mail.last_error = error
        if mail.attempts >= max_attempts:
            mail.status = MailStatus.FAILED


def send_pending(limit: int = 500) -> dict[str, int]:
    """Retry every pending message (oldest first); used by `flask send-mail`."""
    ids = list(db.session.scalars(
        db.select(OutgoingMail.id)
        .where(OutgoingMail.status == MailStatus.PENDING)
        .order_by(OutgoingMail.id)
        .limit(limit)
    ))
    return deliver(ids)


def resend(mail_id: int) -> OutgoingMail | None:
    """Put a message (sent or failed) back in the queue and try it now."""
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None:
        return None
    mail.status, mail.attempts = MailStatus.PENDING, 0
    db.session.commit()
    deliver([mail.id])
    return mail
