"""OAuth2: provider configurations, token tables, refresh locks, OAuth columns on mail_accounts

Revision ID: 0002_oauth
Revises: 0001
Create Date: 2026-11-23 12:30:00

Written by hand. On SQLite the new mail_accounts columns are added with plain
``ALTER TABLE … ADD COLUMN`` (the foreign key inline): batch mode would copy and drop
mail_accounts, and with foreign keys on, dropping it would cascade into the tables that
reference it.
"""
from alembic import op
import sqlalchemy as sa


revision = "0002_oauth"
down_revision = "0001"
branch_labels = None
depends_on = None

ACCOUNT_COLUMNS = (
    ("oauth_grant", "VARCHAR(30)", sa.String(length=30)),
    ("oauth_status", "VARCHAR(30)", sa.String(length=30)),
    ("oauth_error", "TEXT", sa.Text()),
)


def upgrade() -> None:
    op.create_table(
        "oauth_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("client_secret", sa.String(length=4000), nullable=True),
        sa.Column("client_secret_expires_at", sa.DateTime(), nullable=True),
        sa.Column("tenant", sa.String(length=200), nullable=True),
        sa.Column("authority", sa.String(length=1000), nullable=True),
        sa.Column("authorize_url", sa.String(length=1000), nullable=True),
        sa.Column("token_url", sa.String(length=1000), nullable=True),
        sa.Column("device_url", sa.String(length=1000), nullable=True),
        sa.Column("discovery_url", sa.String(length=1000), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "oauth_access_tokens",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("token_type", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("obtained_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["mail_accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["provider_id"], ["oauth_providers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "oauth_refresh_tokens",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("obtained_at", sa.DateTime(), nullable=False),
        sa.Column("last_refresh_at", sa.DateTime(), nullable=True),
        sa.Column("refresh_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["mail_accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["provider_id"], ["oauth_providers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "oauth_refresh_locks",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )

    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE mail_accounts ADD COLUMN oauth_provider_id INTEGER REFERENCES oauth_providers (id)")
        op.execute("ALTER TABLE mail_accounts ADD COLUMN sasl_mechanism VARCHAR(20) DEFAULT 'XOAUTH2' NOT NULL")
        for name, sql_type, _ in ACCOUNT_COLUMNS:
            op.execute(f"ALTER TABLE mail_accounts ADD COLUMN {name} {sql_type}")
    else:
        op.add_column("mail_accounts", sa.Column("oauth_provider_id", sa.Integer(), nullable=True))
        op.create_foreign_key("mail_accounts_oauth_provider_id_fkey", "mail_accounts", "oauth_providers",
                              ["oauth_provider_id"], ["id"])
        op.add_column("mail_accounts", sa.Column("sasl_mechanism", sa.String(length=20),
                                                 server_default="XOAUTH2", nullable=False))
        for name, _, column_type in ACCOUNT_COLUMNS:
            op.add_column("mail_accounts", sa.Column(name, column_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mail_accounts") as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint("mail_accounts_oauth_provider_id_fkey", type_="foreignkey")
        for name in ("oauth_error", "oauth_status", "oauth_grant", "sasl_mechanism", "oauth_provider_id"):
            batch_op.drop_column(name)
    op.drop_table("oauth_refresh_locks")
    op.drop_table("oauth_refresh_tokens")
    op.drop_table("oauth_access_tokens")
    op.drop_table("oauth_providers")
