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


def test_tags_spelled_apart_only_by_accents_become_one_tag(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(revision="3c1d7e9b5a40")
        with db.engine.begin() as connection:
            run = connection.exec_driver_sql
            for page_id, slug in ((1, "un"), (2, "deux")):
                run(
                    "INSERT INTO pages (id, slug, title, kind, license, revision_count, deleted,"
                    " protected, attribution_parties, created_at, updated_at) VALUES"
                    f" ({page_id}, '{slug}', '{slug}', 'page', 'CC-BY-SA-4.0', 0, false, false,"
                    " '[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            run(
                "INSERT INTO tags (id, name)"
                " VALUES (1, 'évaluation'), (2, 'evaluation'), (3, 'ess')"
            )
            run("INSERT INTO page_tags (page_id, tag_id) VALUES (1, 1), (1, 2), (2, 2), (2, 3)")
        upgrade()
        with db.engine.connect() as connection:
            tags = connection.exec_driver_sql("SELECT id, name, key FROM tags ORDER BY id").all()
            links = connection.exec_driver_sql(
                "SELECT page_id, tag_id FROM page_tags ORDER BY page_id, tag_id"
            ).all()
        db.session.remove()
        db.engine.dispose()
    assert [tuple(row) for row in tags] == [(1, "évaluation", "evaluation"), (3, "ess", "ess")]
    assert [tuple(row) for row in links] == [(1, 1), (2, 1), (2, 3)]
