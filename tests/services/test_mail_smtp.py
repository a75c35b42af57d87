"""Mail through a real SMTP server on loopback (aiosmtpd)."""

import socket
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from workshop.extensions import db
from workshop.models import MailStatus, OutgoingMail


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_registration_mail_goes_through_smtp(app, make_event, person, register, smtp_server):
    port, inbox = smtp_server
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_USE_TLS=False,
        MAIL_DEFAULT_SENDER="Workshop <workshop@example.com>",
    )
    event = make_event(title="Workshop Inovasi Pelayanan Publik")
    reg = register(
        event,
        person(name="Ir. H. Abdul Najib, MM", email="najib@example.com"),
    ).registration
    assert len(inbox.messages) == 1
    recipients, raw = inbox.messages[0]
    assert recipients == ["najib@example.com"]
    message = message_from_bytes(raw, policy=policy.default)
    assert "Workshop Inovasi Pelayanan Publik" in message["Subject"]
    assert f"/r/{reg.manage_token}" in message.get_body(("plain",)).get_content()
    with app.app_context():
        sent = db.session.scalar(sa.select(OutgoingMail))
        assert sent.status == MailStatus.SENT
        assert sent.sent_at is not None


def test_smtp_down_then_up_retries_without_losing_anything(
    app, runner, make_event, person, register, smtp_server
):
    port, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=2)  # refused
    reg = register(make_event(), person()).registration
    assert inbox.messages == []
    with app.app_context():
        assert db.session.scalar(sa.select(OutgoingMail.status)) == MailStatus.PENDING
    app.config["MAIL_PORT"] = port  # the server is back
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert [r for r, _ in inbox.messages] == [[reg.email]]
