"""A registration's mail is queued as one row and composed when it is sent: with the
address the person used, the waiting-list position and the language of the moment it was
queued, whoever sends it (the request, the sender thread, `flask send-mail`)."""

import re

import pytest
import sqlalchemy as sa

from workshop.extensions import db
from workshop.models import MailStatus, OutgoingMail, Registration
from workshop.services import mail, registration


@pytest.fixture
def app_config(tmp_path):
    return {
        "MAIL_FILE_DIR": str(tmp_path / "mail"),
        "MAIL_DELIVERY": "outbox",
        "BASE_URL": "http://configured.invalid",
    }


def queued(app) -> list[OutgoingMail]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id)))
        db.session.expunge_all()
        return found


def sent_text(tmp_path) -> list[str]:
    return [path.read_text() for path in sorted((tmp_path / "mail").glob("*.eml"))]


def test_the_mail_is_queued_uncomposed_and_its_links_use_the_address_the_person_used(
    app, client, make_event, make_unit, tmp_path
):
    unit = make_unit()
    event = make_event()
    response = client.post(
        f"/events/{event.id}/register",
        base_url="http://192.168.10.5:8080",
        data={
            "name": "Sri Wahyuni",
            "email": "sri@example.com",
            "employment_status": "non_asn",
            "unit": str(unit.id),
            "institution": "",
        },
    )
    assert response.status_code == 302
    [message] = queued(app)
    assert message.body_text is None  # composed when sent, not in the registration
    assert message.subject == f"Pendaftaran terkonfirmasi: {event.title}"
    assert message.params == {"base_url": "http://192.168.10.5:8080/", "position": None}

    with app.app_context():  # no request: as the sender thread or `flask send-mail`
        assert mail.send_pending() == {"sent": 1, "failed": 0}
        token = db.session.scalar(sa.select(Registration.manage_token))
    [text] = sent_text(tmp_path)
    assert f"http://192.168.10.5:8080/r/{token}" in text
    assert "configured.invalid" not in text
    assert "Yth. Sri Wahyuni," in text


def test_a_waitlisted_mail_says_the_place_it_was_given(app, make_event, person, register, tmp_path):
    event = make_event(capacity=1, waitlist=True)
    first = register(event, person())
    second = register(event, person(email="dua@example.com"))
    third = register(event, person(email="tiga@example.com"))
    assert (second.position, third.position) == (1, 2)
    # The first waiting person gets the seat before the mails go out.
    with app.app_context():
        registration.cancel(first.registration.id, now=first.registration.created_at)
    kinds = [(m.to, m.kind, (m.params or {}).get("position")) for m in queued(app)]
    assert ("tiga@example.com", "registration.waitlisted", 2) in kinds
    with app.app_context():
        mail.send_pending()
    [third_mail] = [t for t in sent_text(tmp_path) if "To: tiga@example.com" in t]
    assert re.search(r"urutan ke-2\b", third_mail)


def test_a_mail_whose_registration_is_gone_is_kept_with_the_reason(
    app, make_event, person, register
):
    event = make_event()
    reg = register(event, person()).registration
    with app.app_context():
        [message] = db.session.scalars(sa.select(OutgoingMail)).all()
        message.registration_id = None  # as if the registration had been removed
        db.session.commit()
        assert mail.deliver([message.id]) == {"sent": 0, "failed": 1}
        db.session.refresh(message)
        assert message.status == MailStatus.PENDING
        assert "no longer exists" in message.last_error
    assert reg.id is not None
