"""import log: who imported which bundle, from where, when, and what it did

Revision ID: 4e8a1b7c3d29
Revises: 9b2d4f6a8c15
Create Date: 2026-12-02 08:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import commons.models

revision = "4e8a1b7c3d29"
down_revision = "9b2d4f6a8c15"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", commons.models.UTCDateTime(), nullable=False),
        sa.Column("importer_id", sa.Integer(), nullable=True),
        sa.Column("importer_name", sa.String(length=80), nullable=True),
        sa.Column("source", sa.String(length=2000), nullable=True),
        sa.Column("on_conflict", sa.String(length=8), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["importer_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_import_log_created_at"), "import_log", ["created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_import_log_created_at"), table_name="import_log")
    op.drop_table("import_log")
