"""mail and watching: password reset throttle, watches, notification settings and queue,
verified email addresses

Revision ID: 7d4e2a9c1f60
Revises: 97e64ca1f720
Create Date: 2026-12-02 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import commons.models

revision = "7d4e2a9c1f60"
down_revision = "97e64ca1f720"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "password_reset_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", commons.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("email_key", "address", "created_at"):
        op.create_index(
            f"ix_password_reset_requests_{column}", "password_reset_requests", [column]
        )
    op.create_table(
        "watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("created_at", commons.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "target_type", "target", name="uq_watches_user_target"),
    )
    op.create_index("ix_watches_user_id", "watches", ["user_id"])
    op.create_index("ix_watches_target", "watches", ["target_type", "target"])
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("watch_created", sa.Boolean(), nullable=False),
        sa.Column("last_digest_at", commons.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "pending_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("created_at", commons.models.UTCDateTime(), nullable=False),
        sa.Column("sent_at", commons.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["revision_id"], ["revisions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "revision_id", name="uq_pending_notifications_revision"),
    )
    op.create_index(
        "ix_pending_notifications_user_sent", "pending_notifications", ["user_id", "sent_at"]
    )
    op.create_table(
        "verified_emails",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("verified_at", commons.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade():
    op.drop_table("verified_emails")
    op.drop_index("ix_pending_notifications_user_sent", table_name="pending_notifications")
    op.drop_table("pending_notifications")
    op.drop_table("notification_settings")
    op.drop_index("ix_watches_target", table_name="watches")
    op.drop_index("ix_watches_user_id", table_name="watches")
    op.drop_table("watches")
    for column in ("created_at", "address", "email_key"):
        op.drop_index(f"ix_password_reset_requests_{column}", table_name="password_reset_requests")
    op.drop_table("password_reset_requests")
