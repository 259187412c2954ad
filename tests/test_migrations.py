"""Migrating an empty database gives exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from commons.extensions import db

from .conftest import make_app


def test_migrations_match_models(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.session.remove()
        db.engine.dispose()
    assert diff == []


def test_migrations_downgrade_and_upgrade_again(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            names = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
        upgrade()
        db.session.remove()
        db.engine.dispose()
    assert names == set()
