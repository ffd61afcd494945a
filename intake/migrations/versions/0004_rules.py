"""filter rules and the automatic-answer log

Revision ID: 0004_rules
Revises: 0003_web
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_rules"
down_revision = "0003_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "filter_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("match_all", sa.Boolean(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("stop", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_filter_rules_position", "filter_rules", ["position"])
    op.create_table(
        "auto_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auto_answers_sender_sent", "auto_answers", ["sender", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_auto_answers_sender_sent", table_name="auto_answers")
    op.drop_table("auto_answers")
    op.drop_index("ix_filter_rules_position", table_name="filter_rules")
    op.drop_table("filter_rules")
