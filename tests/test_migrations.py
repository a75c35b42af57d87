"""Migrations build the schema from an empty database, on SQLite and on PostgreSQL."""

import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import PG_URL, base_config
from workshop import create_app
from workshop.config import normalise_database_url
from workshop.extensions import db
from workshop.models import Base


@pytest.fixture
def empty_database_url(tmp_path):
    if not PG_URL:
        yield "sqlite:///" + str(tmp_path / "empty.sqlite3")
        return
    server = sa.create_engine(normalise_database_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = "workshop_migr_" + uuid.uuid4().hex[:8]
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    server.dispose()


def test_upgrade_empty_database_matches_models(empty_database_url):
    app = create_app(base_config(empty_database_url))
    with app.app_context():
        upgrade()
        inspector = sa.inspect(db.engine)
        tables = set(inspector.get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables
        for table in Base.metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
        # The models and the migrations agree: autogenerate finds nothing to do.
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
