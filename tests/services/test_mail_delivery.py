"""When mail goes out: the process's background sender (the default), in the request, or
only through `flask send-mail`; and a message claimed by one sender is never sent twice."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from workshop.extensions import db
from workshop.models import MailStatus, OutgoingMail
from workshop.services import mail
from workshop.services.mail import cpu_to_spare


@pytest.fixture
def app_config(tmp_path):
    return {"MAIL_FILE_DIR": str(tmp_path / "mail")}


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch):
    """The machine has a CPU to spare, whatever the other test processes are doing at the
    moment (the tests of that check say otherwise themselves)."""
    monkeypatch.setattr(mail, "cpu_to_spare", lambda: True)


def outbox(app) -> list[tuple[str, MailStatus, int]]:
    with app.app_context():
        return [
            (m.kind, m.status, m.attempts)
            for m in db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id))
        ]


def eml_files(tmp_path) -> list:
    return sorted((tmp_path / "mail").glob("*.eml"))


def test_background_sender_delivers_after_the_request(
    app, make_event, person, register, tmp_path, monkeypatch
):
    app.config["MAIL_DELIVERY"] = "background"
    threads = []
    real_build = mail.build_message

    def build(message):
        threads.append(threading.current_thread().name)
        return real_build(message)

    monkeypatch.setattr(mail, "build_message", build)
    gate = threading.Event()
    real_deliver = mail.deliver
    # Hold the sender until the registration has returned: it cannot be in the request.
    monkeypatch.setattr(mail, "deliver", lambda ids: (gate.wait(10), real_deliver(ids))[1])
    event = make_event()
    outcome = register(event, person(email="sri@example.com"))
    assert outcome.registration.status == "confirmed"
    assert outbox(app) == [("registration.confirmed", MailStatus.PENDING, 0)]
    gate.set()
    assert mail.wait_for_background(app, timeout=30)
    assert outbox(app) == [("registration.confirmed", MailStatus.SENT, 1)]
    assert threads == ["mail-sender"]
    assert len(eml_files(tmp_path)) == 1
    assert "sri@example.com" in eml_files(tmp_path)[0].read_text()


def test_background_sender_survives_a_failing_batch(
    app, make_event, person, register, monkeypatch, tmp_path
):
    app.config["MAIL_DELIVERY"] = "background"
    calls = []
    real_deliver = mail.deliver

    def flaky(ids):
        calls.append(ids)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real_deliver(ids)

    monkeypatch.setattr(mail, "deliver", flaky)
    event = make_event()
    register(event, person())
    assert mail.wait_for_background(app, timeout=30)
    register(event, person())
    assert mail.wait_for_background(app, timeout=30)
    # The first message stays pending for `flask send-mail`; the thread lived on.
    assert [status for _kind, status, _n in outbox(app)] == [MailStatus.PENDING, MailStatus.SENT]
    assert len(calls) == 2


def test_outbox_mode_leaves_mail_to_send_mail(app, runner, make_event, person, register, tmp_path):
    app.config["MAIL_DELIVERY"] = "outbox"
    event = make_event()
    register(event, person())
    register(event, person())
    assert [s for _k, s, _n in outbox(app)] == [MailStatus.PENDING, MailStatus.PENDING]
    assert eml_files(tmp_path) == []
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 2" in result.output
    assert [s for _k, s, _n in outbox(app)] == [MailStatus.SENT, MailStatus.SENT]
    assert len(eml_files(tmp_path)) == 2


def test_unknown_delivery_mode_is_refused(app):
    app.config["MAIL_DELIVERY"] = "later"
    with app.test_request_context(), pytest.raises(ValueError, match="MAIL_DELIVERY"):
        mail.dispatch([1])


def test_a_claimed_message_is_not_sent_by_a_second_sender(
    app, make_event, person, register, tmp_path
):
    app.config["MAIL_DELIVERY"] = "outbox"
    register(make_event(), person())
    with app.app_context():
        mail_id = db.session.scalar(sa.select(OutgoingMail.id))
        # Sender A claims it (and is busy sending) ...
        assert mail._claim(mail_id) is True
        db.session.commit()
        # ... so sender B (say `flask send-mail` from cron) leaves it alone.
        assert mail._claim(mail_id) is False
        db.session.rollback()
        assert mail.send_pending() == {"sent": 0, "failed": 0}
    assert eml_files(tmp_path) == []
    assert outbox(app)[0][1:] == (MailStatus.PENDING, 0)


def test_a_stale_claim_is_taken_over(app, make_event, person, register, tmp_path):
    """A sender that died mid-way (its process stopped) leaves a claim; after the lease
    another sender sends the message."""
    app.config["MAIL_DELIVERY"] = "outbox"
    register(make_event(), person())
    with app.app_context():
        message = db.session.scalar(sa.select(OutgoingMail))
        message.claimed_at = datetime.now(UTC) - timedelta(minutes=4)
        db.session.commit()
        assert mail.send_pending() == {"sent": 0, "failed": 0}  # lease: 5 minutes
        message = db.session.scalar(sa.select(OutgoingMail))
        message.claimed_at = datetime.now(UTC) - timedelta(minutes=6)
        db.session.commit()
        assert mail.send_pending() == {"sent": 1, "failed": 0}
        sent = db.session.scalar(sa.select(OutgoingMail))
        assert (sent.status, sent.claimed_at) == (MailStatus.SENT, None)
    assert len(eml_files(tmp_path)) == 1


def test_background_mail_waits_for_a_pause_between_requests(
    app, make_event, person, register, tmp_path
):
    """While the process is answering requests, the sender thread leaves the CPU to them
    (the PDF ticket costs more than a registration) and sends in the first pause."""
    app.config.update(MAIL_DELIVERY="background", MAIL_SENDER_QUIET=0.2)
    event = make_event()
    mail.activity.started()  # a request in flight, as during a rush of registrations
    try:
        register(event, person())
        assert not mail.wait_for_background(app, timeout=0.6)
        assert [status for _kind, status, _n in outbox(app)] == [MailStatus.PENDING]
    finally:
        mail.activity.ended()
    assert mail.wait_for_background(app, timeout=30)
    assert [status for _kind, status, _n in outbox(app)] == [MailStatus.SENT]
    assert len(eml_files(tmp_path)) == 1


@pytest.mark.parametrize("held_by", ["requests", "busy cpus"])
def test_background_mail_goes_out_after_its_longest_wait_even_without_a_pause(
    app, make_event, person, register, monkeypatch, held_by
):
    """Neither requests that never stop in this process nor CPUs the others keep busy
    hold a message past MAIL_SENDER_MAX_WAIT."""
    app.config.update(MAIL_DELIVERY="background", MAIL_SENDER_QUIET=0.2, MAIL_SENDER_MAX_WAIT=0.5)
    if held_by == "busy cpus":
        monkeypatch.setattr(mail, "cpu_to_spare", lambda: False)
    else:
        mail.activity.started()
    try:
        register(make_event(), person())
        assert mail.wait_for_background(app, timeout=30)
        assert [status for _kind, status, _n in outbox(app)] == [MailStatus.SENT]
    finally:
        if held_by == "requests":
            mail.activity.ended()


def test_background_mail_waits_while_the_other_processes_take_every_cpu(
    app, make_event, person, register, tmp_path, monkeypatch
):
    """This process may rest while the other server processes are busy answering: the
    sender then still waits, until the machine has a CPU to spare (or the message's
    longest wait is over)."""
    app.config.update(MAIL_DELIVERY="background", MAIL_SENDER_QUIET=0.1)
    spare = threading.Event()
    monkeypatch.setattr(mail, "cpu_to_spare", spare.is_set)
    register(make_event(), person())
    assert not mail.wait_for_background(app, timeout=0.6)  # no request here: quiet
    assert [status for _kind, status, _n in outbox(app)] == [MailStatus.PENDING]
    spare.set()
    assert mail.wait_for_background(app, timeout=30)
    assert [status for _kind, status, _n in outbox(app)] == [MailStatus.SENT]
    assert len(eml_files(tmp_path)) == 1


@pytest.mark.parametrize(
    ("loadavg", "spare"),
    [
        ("0.52 0.58 0.59 1/389 12345\n", True),  # the asking thread alone
        ("2.10 1.90 1.70 2/389 12345\n", True),  # it and one more, on two CPUs
        ("3.90 3.15 2.52 3/389 12345\n", False),  # two others want both CPUs
        ("garbled\n", True),
        (None, True),  # no /proc/loadavg (not Linux): the process's own quiet decides
    ],
)
def test_a_cpu_to_spare_is_read_from_the_runnable_tasks(tmp_path, monkeypatch, loadavg, spare):
    path = tmp_path / "loadavg"
    if loadavg is not None:
        path.write_text(loadavg)
    monkeypatch.setattr(mail, "LOADAVG", str(path))
    monkeypatch.setattr(mail, "_cpus", lambda: 2)
    assert cpu_to_spare() is spare


def test_requests_are_seen_by_the_sender(app, client):
    before = mail.activity.last_end
    assert client.get("/").status_code == 200
    assert mail.activity.in_flight == 0
    assert mail.activity.last_end > before
