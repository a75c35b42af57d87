"""flask commands: init-db, demo, create-user, create-token."""

import click
from flask import Flask
from flask_migrate import upgrade

from workshop.extensions import db
from workshop.models import Role
from workshop.services import users
from workshop.services.errors import ValidationError


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db():
        """Create or upgrade the database schema to the latest migration."""
        upgrade()
        click.echo("Database is at the latest migration.")

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Only load when the database has no events.")
    def demo(if_empty: bool):
        """Load the demo data (idempotent: running it again changes nothing)."""
        from workshop.demo import DEMO_PASSWORD, DEMO_USERS, database_is_empty, load_demo

        if if_empty and not database_is_empty():
            click.echo("Database already has data; demo data not loaded.")
        else:
            summary = load_demo()
            db.session.commit()
            click.echo(f"Demo data ready: {summary}.")
        click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, _name, role in DEMO_USERS:
            click.echo(f"  {role:<12} {email}")

    @app.cli.command("send-mail")
    @click.option("--limit", default=500, show_default=True, help="At most this many messages.")
    def send_mail(limit: int):
        """Send (or retry) the mail waiting in the outbox."""
        from workshop.services import mail

        result = mail.send_pending(limit=limit)
        click.echo(f"Sent {result['sent']}, not sent {result['failed']}.")
        if result["failed"]:
            raise SystemExit(1)

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice([r.value for r in Role]), default="participant")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def create_user(email: str, name: str, role: str, password: str):
        """Create a user account."""
        try:
            user = users.create_user(email, name, role, password)
        except ValidationError as exc:
            for field, messages in exc.fields.items():
                click.echo(f"{field}: {' '.join(messages)}", err=True)
            raise SystemExit(1) from exc
        db.session.commit()
        click.echo(f"Created {user.role} {user.email} (id {user.id}).")

    @app.cli.command("create-token")
    @click.option("--email", required=True)
    @click.option("--name", default=None, help="A label for the token, e.g. the device.")
    def create_token(email: str, name: str | None):
        """Print a new API token for the user; the last line is the token alone."""
        user = users.find_by_email(email)
        if user is None:
            click.echo(f"No user with email {email}.", err=True)
            raise SystemExit(1)
        token = users.issue_token(user, name)
        db.session.commit()
        click.echo(f"API token for {user.email} (shown once; only its hash is stored):")
        click.echo(token)
