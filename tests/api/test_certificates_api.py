"""Certificates in the JSON API: issuing (also by two organizers at once), a registration's
PDF for its organizer or its own participant only, revoking by number or id, and public
verification."""

import threading

import pytest
import sqlalchemy as sa

from tests.certificate_support import issue_all, make_certified, pdf_text
from workshop.extensions import db
from workshop.models import Certificate, Registration, Role

PREFIX = "/api/v1"


@pytest.fixture
def certified(app, actors, make_event, make_user, make_unit, person, register):
    return make_certified(
        app, make_event, make_user, make_unit, person, register, owner=actors["owner"]
    )


def link(app, reg, *, email=None, user=None):
    with app.app_context():
        values = {}
        if email:
            values["email"] = email
        if user:
            values["user_id"] = user.id
        db.session.execute(
            sa.update(Registration).where(Registration.id == reg.id).values(**values)
        )
        db.session.commit()


ISSUE_EXPECTED = {
    "admin": 200,
    "owner": 200,
    "other_organizer": 404,
    "staff": 403,
    "participant": 403,
    "anonymous": 401,
}


@pytest.mark.parametrize(("role", "status"), list(ISSUE_EXPECTED.items()))
def test_issue_permissions(app, client, actors, bearer, certified, role, status):
    response = client.post(
        f"{PREFIX}/events/{certified.event.id}/certificates", headers=bearer(actors[role])
    )
    assert response.status_code == status
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count(Certificate.id)))
    assert count == (3 if status == 200 else 0)


def test_issue_answers_counts_and_numbers(client, actors, bearer, certified):
    url = f"{PREFIX}/events/{certified.event.id}/certificates"
    first = client.post(url, headers=bearer(actors["owner"]), json={})
    assert first.get_json() == {
        "issued": 3,
        "already": 0,
        "not_eligible": 1,
        "numbers": [
            "001/SERT/BAPPEDA/I/2030",
            "002/SERT/BAPPEDA/I/2030",
            "003/SERT/BAPPEDA/I/2030",
        ],
    }
    again = client.post(url, headers=bearer(actors["admin"]))
    assert again.get_json() == {"issued": 0, "already": 3, "not_eligible": 1, "numbers": []}
    bad = client.post(url, headers=bearer(actors["owner"]), json={"semua": True})
    assert bad.status_code == 422


def test_issue_when_switched_off_is_409(
    client, actors, bearer, app, make_event, make_user, make_unit, person, register
):
    certified = make_certified(
        app,
        make_event,
        make_user,
        make_unit,
        person,
        register,
        owner=actors["owner"],
        settings=False,
    )
    response = client.post(
        f"{PREFIX}/events/{certified.event.id}/certificates", headers=bearer(actors["owner"])
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "certificates_disabled"


def test_two_organizers_issuing_at_once_never_share_a_number(
    app, actors, bearer, make_event, make_user, make_unit, person, register
):
    names = [f"Peserta {chr(65 + i)}{i:02d}" for i in range(24)]
    certified = make_certified(
        app,
        make_event,
        make_user,
        make_unit,
        person,
        register,
        owner=actors["owner"],
        eligible=names,
        partial=(),
        speaker=None,
    )
    url = f"{PREFIX}/events/{certified.event.id}/certificates"
    headers = [bearer(actors["owner"]), bearer(actors["admin"])]
    barrier = threading.Barrier(2)
    answers = [None, None]

    def issue(i):
        client = app.test_client()
        barrier.wait()
        answers[i] = client.post(url, headers=headers[i]).get_json()

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = answers[0]["numbers"] + answers[1]["numbers"]
    assert sorted(numbers) == [f"{n:03d}/SERT/BAPPEDA/I/2030" for n in range(1, 25)]
    assert answers[0]["issued"] + answers[1]["issued"] == 24
    with app.app_context():
        rows = db.session.execute(
            sa.select(Certificate.sequence, Certificate.registration_id).order_by(
                Certificate.sequence
            )
        ).all()
        by_name = db.session.scalars(
            sa.select(Registration.id)
            .where(Registration.event_id == certified.event.id)
            .order_by(Registration.name)
        ).all()
    assert [s for s, _r in rows] == list(range(1, 25))
    assert [r for _s, r in rows] == list(by_name)  # numbered in order of name


# --- a registration's PDF -------------------------------------------------------------------


def test_pdf_for_organizer_admin_and_the_participant_it_belongs_to(
    app, client, actors, bearer, token_user, certified
):
    issue_all(app, certified.event.id, certified.owner)
    alice, budi = certified.eligible
    by_email, by_account = token_user(Role.PARTICIPANT), token_user(Role.PARTICIPANT)
    link(app, alice, email=by_email.email.upper())  # emails compare without case
    link(app, budi, user=by_account)
    expected = [
        (actors["owner"], alice, 200),
        (actors["admin"], alice, 200),
        (by_email, alice, 200),
        (by_account, budi, 200),
        (by_email, budi, 404),
        (by_account, alice, 404),  # someone else's certificate
        (actors["participant"], alice, 404),
        (actors["staff"], alice, 404),
        (actors["other_organizer"], alice, 404),
        (None, alice, 401),
    ]
    for user, reg, status in expected:
        response = client.get(
            f"{PREFIX}/registrations/{reg.id}/certificate.pdf", headers=bearer(user)
        )
        assert response.status_code == status, (user and user.email, reg.name)
        if status == 200:
            assert response.mimetype == "application/pdf"
            assert reg.name in pdf_text(response.data)
    assert (
        client.get(
            f"{PREFIX}/registrations/99999/certificate.pdf", headers=bearer(actors["admin"])
        ).status_code
        == 404
    )


def test_pdf_409_says_why(app, client, actors, bearer, certified):
    owner = bearer(actors["owner"])
    alice, citra = certified.eligible[0], certified.partial[0]
    before = client.get(f"{PREFIX}/registrations/{alice.id}/certificate.pdf", headers=owner)
    assert before.status_code == 409
    assert before.get_json() == {
        "error": "not_issued",
        "standing": "eligible",
        "missing_days": [],
        "message": "Memenuhi syarat, tetapi sertifikat belum diterbitkan.",
    }
    issue_all(app, certified.event.id, certified.owner)
    refused = client.get(f"{PREFIX}/registrations/{citra.id}/certificate.pdf", headers=owner)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "not_eligible" and body["missing_days"] == ["2030-01-14"]
    assert body["message"]


# --- revoke ------------------------------------------------------------------------------------


def test_revoke_by_number_with_slashes_or_by_id(app, client, actors, bearer, certified):
    issued = issue_all(app, certified.event.id, certified.owner)
    owner = bearer(actors["owner"])
    cert_id, number, _code = issued[certified.eligible[0].id]
    missing = client.post(f"{PREFIX}/certificates/{number}/revoke", headers=owner, json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["fields"]
    for role, status in (
        ("other_organizer", 404),
        ("staff", 403),
        ("participant", 403),
        ("anonymous", 401),
    ):
        response = client.post(
            f"{PREFIX}/certificates/{number}/revoke",
            headers=bearer(actors[role]),
            json={"reason": "x"},
        )
        assert response.status_code == status, role
    response = client.post(
        f"{PREFIX}/certificates/{number}/revoke", headers=owner, json={"reason": "Salah nama"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["number"] == number and body["revoked_reason"] == "Salah nama"
    assert body["revoked_at"].endswith("+07:00")
    again = client.post(
        f"{PREFIX}/certificates/{cert_id}/revoke", headers=owner, json={"reason": "lagi"}
    )
    assert again.status_code == 409 and again.get_json()["error"] == "already_revoked"
    other_id = issued[certified.eligible[1].id][0]
    encoded = client.post(
        f"{PREFIX}/certificates/{other_id}/revoke",
        headers=bearer(actors["admin"]),
        json={"reason": "Tidak hadir"},
    )
    assert encoded.status_code == 200
    assert (
        client.post(
            f"{PREFIX}/certificates/tidak-ada/revoke", headers=owner, json={"reason": "x"}
        ).status_code
        == 404
    )


def test_a_number_used_by_two_events_is_ambiguous(
    app, client, actors, bearer, certified, make_event, make_user, make_unit, person, register
):
    second = make_certified(
        app,
        make_event,
        make_user,
        make_unit,
        person,
        register,
        owner=actors["owner"],
        unit=certified.unit,
    )
    issue_all(app, certified.event.id, certified.owner)
    issue_all(app, second.event.id, second.owner)
    response = client.post(
        f"{PREFIX}/certificates/001/SERT/BAPPEDA/I/2030/revoke",
        headers=bearer(actors["owner"]),
        json={"reason": "x"},
    )
    assert response.status_code == 404


# --- verify ---------------------------------------------------------------------------------


def test_verify_valid_revoked_and_unknown(app, client, actors, bearer, certified):
    issued = issue_all(app, certified.event.id, certified.owner)
    _id, number, code = issued[certified.speaker.id]
    body = client.get(f"{PREFIX}/certificates/verify/{code}").get_json()
    assert body == {
        "valid": True,
        "status": "valid",
        "name": "Elke Rapp",
        "role": "speaker",
        "event": "Workshop Inovasi Pelayanan Publik",
        "date": "2030-01-13",
        "dates": ["2030-01-13", "2030-01-14"],
        "number": number,
        "revoked_at": None,
    }
    client.post(
        f"{PREFIX}/certificates/{number}/revoke",
        headers=bearer(actors["owner"]),
        json={"reason": "Keliru"},
    )
    revoked = client.get(f"{PREFIX}/certificates/verify/{code}").get_json()
    assert revoked["valid"] is False and revoked["status"] == "revoked"
    assert revoked["revoked_at"].startswith("2030-01-15")
    assert "Keliru" not in str(revoked)
    unknown = client.get(f"{PREFIX}/certificates/verify/tidak-ada")
    assert unknown.status_code == 404
    assert unknown.get_json()["status"] == "not_found"
    assert unknown.get_json()["valid"] is False
    for private in ("email", "phone", "nip"):
        assert private not in body


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "3 per minute"}]
)
def test_verify_is_rate_limited(app, client):
    from workshop.extensions import limiter

    with app.app_context():
        limiter.reset()
    codes = [client.get(f"{PREFIX}/certificates/verify/kode{i}").status_code for i in range(4)]
    assert codes == [404, 404, 404, 429]
    assert client.get(f"{PREFIX}/certificates/verify/kode9").get_json()["error"] == "rate_limited"
    with app.app_context():
        limiter.reset()
