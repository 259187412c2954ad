"""visibility changes: the log of hidden and shown revisions

Revision ID: 3c1d7e9b5a40
Revises: 3c1e7d9a4b5f
Create Date: 2026-12-02 04:45:00.000000
"""

from alembic import op
import sqlalchemy as sa
import commons.models


revision = '3c1d7e9b5a40'
down_revision = '3c1e7d9a4b5f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visibility_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', commons.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visibility_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visibility_changes_page_id'), ['page_id'], unique=False)


def downgrade():
    with op.batch_alter_table('visibility_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visibility_changes_page_id'))

    op.drop_table('visibility_changes')
