"""experiment sheets: typed fields per revision, facets, themes, replication

Existing revisions get empty fields ({}), so every page keeps its text and history.

Revision ID: 97e64ca1f720
Revises: 3c1d7e9b5a40
Create Date: 2026-12-02 08:12:44.085268
"""

from alembic import op
import sqlalchemy as sa
import commons.models


revision = '97e64ca1f720'
down_revision = '3c1d7e9b5a40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('themes',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label_fr', sa.String(length=100), nullable=False),
    sa.Column('label_en', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('page_facets',
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('facet', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page_id', 'facet', 'value')
    )
    with op.batch_alter_table('page_facets', schema=None) as batch_op:
        batch_op.create_index('ix_page_facets_facet_value', ['facet', 'value'], unique=False)

    # Plain ADD COLUMN, never a batch copy of the table: on SQLite a copy drops the old
    # table, and with foreign keys on that would delete the rows that cascade from it
    # (page tags, links, visibility changes).
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column's foreign key only in the column's own definition.
        op.execute(
            'ALTER TABLE pages ADD COLUMN replicates_id INTEGER REFERENCES pages (id)'
        )
    else:
        op.add_column('pages', sa.Column('replicates_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            'pages_replicates_id_fkey', 'pages', 'pages', ['replicates_id'], ['id']
        )
    op.add_column('pages', sa.Column('replicates_url', sa.String(length=500), nullable=True))
    op.create_index(op.f('ix_pages_replicates_id'), 'pages', ['replicates_id'], unique=False)
    op.add_column(
        'revisions',
        sa.Column('fields', sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade():
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_column('fields')

    op.drop_index(op.f('ix_pages_replicates_id'), table_name='pages')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('pages_replicates_id_fkey', 'pages', type_='foreignkey')
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('replicates_url')
        batch_op.drop_column('replicates_id')

    with op.batch_alter_table('page_facets', schema=None) as batch_op:
        batch_op.drop_index('ix_page_facets_facet_value')

    op.drop_table('page_facets')
    op.drop_table('themes')
