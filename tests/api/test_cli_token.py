"""`flask create-token` prints a token that works against the API; only its hash is stored."""

import hashlib

import sqlalchemy as sa

from workshop.extensions import db
from workshop.models import ApiToken, AuditLog, Role


def test_create_token_prints_working_token_and_stores_only_its_hash(
    app, runner, client, token_user, event_body
):
    organizer = token_user(Role.ORGANIZER)
    result = runner.invoke(args=["create-token", "--email", organizer.email, "--name", "scanner"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("wks_")
    assert len(token) > 40

    response = client.post(
        "/api/v1/events", json=event_body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
    assert response.get_json()["owner_id"] == organizer.id

    with app.app_context():
        rows = db.session.scalars(sa.select(ApiToken)).all()
        assert [(r.user_id, r.name) for r in rows] == [(organizer.id, "scanner")]
        assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
        # The plain token is nowhere in the database: not in the token row, not in the audit log.
        stored = [str(v) for r in rows for v in (r.token_hash, r.name)]
        stored += [str(a.details) for a in db.session.scalars(sa.select(AuditLog))]
        assert not any(token in value for value in stored)


def test_create_token_for_unknown_email_fails(runner):
    result = runner.invoke(args=["create-token", "--email", "nobody@example.com"])
    assert result.exit_code != 0
    assert "wks_" not in result.output
