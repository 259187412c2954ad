"""license agreements: a contributor's agreement to a licence is remembered per terms version

Revision ID: 9b2d4f6a8c15
Revises: 7a4e2c9d1f63
Create Date: 2026-12-02 08:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

import commons.models

revision = "9b2d4f6a8c15"
down_revision = "7a4e2c9d1f63"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "license_agreements",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("license", sa.String(length=32), nullable=False),
        sa.Column("terms_version", sa.String(length=32), nullable=False),
        sa.Column("agreed_at", commons.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "license"),
    )


def downgrade():
    op.drop_table("license_agreements")
