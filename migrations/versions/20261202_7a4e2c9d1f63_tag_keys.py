"""tag keys: tags keep their spelling and are matched without case or accents

Revision ID: 7a4e2c9d1f63
Revises: 7d4e2a9c1f60
Create Date: 2026-12-02 08:10:00.000000
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "7a4e2c9d1f63"
down_revision = "7d4e2a9c1f60"
branch_labels = None
depends_on = None

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "’": "'", "‘": "'", "ʼ": "'"})


def _key(name):
    """The tag key as commons.text.tag_key computed it when this migration was written."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.lower().translate(_LIGATURES).split())


def upgrade():
    # Added NOT NULL with a placeholder, then filled: on SQLite, changing the column
    # afterwards would rebuild "tags", and dropping the old table would cascade to page_tags.
    op.add_column("tags", sa.Column("key", sa.String(length=64), nullable=False, server_default=""))
    connection = op.get_bind()
    tags = sa.table("tags", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("key", sa.String))
    page_tags = sa.table("page_tags", sa.column("page_id", sa.Integer), sa.column("tag_id", sa.Integer))
    kept = {}
    for tag_id, name in connection.execute(sa.select(tags.c.id, tags.c.name).order_by(tags.c.id)):
        key = _key(name)
        if key not in kept:
            kept[key] = tag_id
            connection.execute(tags.update().where(tags.c.id == tag_id).values(key=key))
            continue
        # "évaluation" and "evaluation" were two tags: their pages join the older one.
        already = sa.select(page_tags.c.page_id).where(page_tags.c.tag_id == kept[key])
        connection.execute(
            page_tags.delete().where(page_tags.c.tag_id == tag_id, page_tags.c.page_id.in_(already))
        )
        connection.execute(page_tags.update().where(page_tags.c.tag_id == tag_id).values(tag_id=kept[key]))
        connection.execute(tags.delete().where(tags.c.id == tag_id))
    if connection.dialect.name != "sqlite":  # SQLite cannot drop a default in place
        op.alter_column("tags", "key", server_default=None)
    op.create_index(op.f("ix_tags_key"), "tags", ["key"], unique=True)


def downgrade():
    op.drop_index(op.f("ix_tags_key"), table_name="tags")
    # SQLite (3.35+) drops a column in place, without rebuilding the table.
    op.drop_column("tags", "key")
