"""revisions record who imported them

Revision ID: 3c1e7d9a4b5f
Revises: 5c1d7e9a3b42
Create Date: 2026-12-02 05:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '3c1e7d9a4b5f'
down_revision = '5c1d7e9a3b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported_by', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_column('imported_by')
