"""flask commands."""

import sqlalchemy as sa

from workshop.extensions import db
from workshop.models import Role, User


def test_create_user(app, runner):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Najib@Example.com",
            "--name",
            "Ir. H. Abdul Najib, MM",
            "--role",
            "organizer",
            "--password",
            "rahasia-123",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "najib@example.com"))
        assert user.name == "Ir. H. Abdul Najib, MM"
        assert user.role == Role.ORGANIZER
        assert user.check_password("rahasia-123")


def test_create_user_rejects_bad_input(app, runner, make_user):
    make_user(email="ada@example.com")
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "ada@example.com",
            "--name",
            "X",
            "--role",
            "staff",
            "--password",
            "pendek",
        ]
    )
    assert result.exit_code == 1
    assert "email" in result.output and "password" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_create_token_unknown_email(runner):
    result = runner.invoke(args=["create-token", "--email", "nobody@example.com"])
    assert result.exit_code == 1


def test_init_db_is_repeatable(runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "latest migration" in result.output
