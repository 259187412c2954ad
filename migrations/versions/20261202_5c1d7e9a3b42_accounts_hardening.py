"""accounts hardening: folded user names, session keys, token scopes, registration throttle

Revision ID: 5c1d7e9a3b42
Revises: 8a2f5f45bfb2
Create Date: 2026-12-02 05:00:00.000000
"""

import secrets
import unicodedata

import sqlalchemy as sa
from alembic import op

import commons.models

revision = "5c1d7e9a3b42"
down_revision = "8a2f5f45bfb2"
branch_labels = None
depends_on = None


def _fold(name):
    """The name key as commons.auth.name_key computed it when this migration was written."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def upgrade():
    # Columns are added NOT NULL with a placeholder default, then filled: on SQLite,
    # making a column NOT NULL afterwards would rebuild "users", and dropping the old
    # table would cascade to api_tokens (and trip the revisions' foreign keys).
    op.add_column(
        "users", sa.Column("name_key", sa.String(length=255), nullable=False, server_default="")
    )
    op.add_column(
        "users", sa.Column("session_key", sa.String(length=32), nullable=False, server_default="")
    )
    # Tokens made before scopes could do everything their owner can.
    op.add_column(
        "api_tokens", sa.Column("scope", sa.String(length=8), nullable=False, server_default="write")
    )

    connection = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
        sa.column("session_key", sa.String),
    )
    taken = set()
    for user_id, name in connection.execute(sa.select(users.c.id, users.c.name).order_by(users.c.id)):
        key = _fold(name)
        # Names that only lower() kept apart ("Élodie", "élodie") fold alike: the oldest
        # account keeps the name, the others get a key no login matches until an admin acts.
        if key in taken:
            key = f"{key}#{user_id}"
        taken.add(key)
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(name_key=key, session_key=secrets.token_hex(16))
        )
    if connection.dialect.name != "sqlite":  # SQLite cannot drop a default in place
        for table, column in (("users", "name_key"), ("users", "session_key"), ("api_tokens", "scope")):
            op.alter_column(table, column, server_default=None)
    op.create_index(op.f("ix_users_name_key"), "users", ["name_key"], unique=True)

    op.create_table(
        "registration_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", commons.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registration_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_attempts_address"), ["address"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_registration_attempts_created_at"), ["created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("registration_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_attempts_created_at"))
        batch_op.drop_index(batch_op.f("ix_registration_attempts_address"))
    op.drop_table("registration_attempts")
    op.drop_index(op.f("ix_users_name_key"), table_name="users")
    # SQLite (3.35+) drops a column in place, without rebuilding the table.
    op.drop_column("api_tokens", "scope")
    op.drop_column("users", "session_key")
    op.drop_column("users", "name_key")
