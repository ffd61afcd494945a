"""web UI: audit log, login throttling, ticket list indexes, full-text search index

Revision ID: 0003_web
Revises: 0002_oauth
Create Date: 2026-11-23 12:00:00

The search index (see intake/search.py) is not modelled by the ORM: an FTS5 table on
SQLite, a tsvector table with a GIN index on PostgreSQL, both maintained by triggers.
intake.search.include_object keeps them out of Alembic's model comparison.
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_web"
down_revision = "0002_oauth"
branch_labels = None
depends_on = None

TICKET_INDEXES = {
    "ix_tickets_updated_id": ["updated_at", "id"],
    "ix_tickets_state_updated": ["state", "updated_at", "id"],
    "ix_tickets_priority_updated": ["priority", "updated_at", "id"],
    "ix_tickets_state_queue": ["state", "queue_id"],
    "ix_tickets_owner_updated": ["owner_id", "updated_at", "id"],
}

# Words are split at @ . / on both databases, so parts of addresses and host names match.
SQLITE_UP = [
    "CREATE VIRTUAL TABLE ticket_fts USING fts5(title, sender, body, tokenize = 'unicode61 remove_diacritics 2')",
    """CREATE TRIGGER ticket_fts_ticket_insert AFTER INSERT ON tickets BEGIN
         INSERT INTO ticket_fts(rowid, title, sender, body) VALUES (new.id, new.title, new.customer, '');
       END""",
    """CREATE TRIGGER ticket_fts_ticket_title AFTER UPDATE OF title ON tickets BEGIN
         UPDATE ticket_fts SET title = new.title WHERE rowid = new.id;
       END""",
    """CREATE TRIGGER ticket_fts_ticket_delete AFTER DELETE ON tickets BEGIN
         DELETE FROM ticket_fts WHERE rowid = old.id;
       END""",
    """CREATE TRIGGER ticket_fts_article_insert AFTER INSERT ON articles BEGIN
         UPDATE ticket_fts
            SET sender = sender || ' ' || coalesce(new.from_name, '') || ' ' || coalesce(new.from_address, ''),
                body = body || ' ' || coalesce(new.subject, '') || ' ' || substr(coalesce(new.body_text, ''), 1, 20000)
          WHERE rowid = new.ticket_id;
       END""",
    # Tickets that exist before this migration.
    """INSERT INTO ticket_fts(rowid, title, sender, body)
       SELECT t.id, t.title,
              t.customer || ' ' || coalesce((SELECT group_concat(a.from_name || ' ' || a.from_address, ' ')
                                             FROM articles a WHERE a.ticket_id = t.id), ''),
              coalesce((SELECT group_concat(a.subject || ' ' || substr(coalesce(a.body_text, ''), 1, 20000), ' ')
                        FROM articles a WHERE a.ticket_id = t.id), '')
         FROM tickets t""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS ticket_fts_article_insert",
    "DROP TRIGGER IF EXISTS ticket_fts_ticket_delete",
    "DROP TRIGGER IF EXISTS ticket_fts_ticket_title",
    "DROP TRIGGER IF EXISTS ticket_fts_ticket_insert",
    "DROP TABLE IF EXISTS ticket_fts",
]

POSTGRES_UP = [
    """CREATE TABLE ticket_search (
         ticket_id integer PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
         document tsvector NOT NULL DEFAULT ''::tsvector)""",
    "CREATE INDEX ix_ticket_search_document ON ticket_search USING gin (document)",
    """CREATE FUNCTION intake_search_vector(value text) RETURNS tsvector
         LANGUAGE sql IMMUTABLE AS $$ SELECT to_tsvector('simple', translate(coalesce(value, ''), '@./', '   ')) $$""",
    """CREATE FUNCTION ticket_search_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           INSERT INTO ticket_search(ticket_id, document)
           VALUES (NEW.id, intake_search_vector(NEW.title || ' ' || NEW.customer));
         ELSIF NEW.title IS DISTINCT FROM OLD.title THEN
           BEGIN  -- the index is best effort: it never makes a write fail
             UPDATE ticket_search SET document = document || intake_search_vector(NEW.title)
              WHERE ticket_id = NEW.id;
           EXCEPTION WHEN program_limit_exceeded THEN NULL;
           END;
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER ticket_search_ticket AFTER INSERT OR UPDATE OF title ON tickets
         FOR EACH ROW EXECUTE FUNCTION ticket_search_ticket()""",
    """CREATE FUNCTION ticket_search_article() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         BEGIN  -- a tsvector is limited to 1 MB: a huge thread stops growing, ingestion goes on
           UPDATE ticket_search
              SET document = document || intake_search_vector(
                    NEW.subject || ' ' || NEW.from_name || ' ' || NEW.from_address || ' '
                    || left(coalesce(NEW.body_text, ''), 20000))
            WHERE ticket_id = NEW.ticket_id;
         EXCEPTION WHEN program_limit_exceeded THEN NULL;
         END;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER ticket_search_article AFTER INSERT ON articles
         FOR EACH ROW EXECUTE FUNCTION ticket_search_article()""",
    """INSERT INTO ticket_search(ticket_id, document)
       SELECT t.id, intake_search_vector(t.title || ' ' || t.customer || ' ' || coalesce(
                (SELECT string_agg(a.subject || ' ' || a.from_name || ' ' || a.from_address || ' '
                                   || left(coalesce(a.body_text, ''), 20000), ' ')
                   FROM articles a WHERE a.ticket_id = t.id), ''))
         FROM tickets t""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS ticket_search_article ON articles",
    "DROP TRIGGER IF EXISTS ticket_search_ticket ON tickets",
    "DROP FUNCTION IF EXISTS ticket_search_article()",
    "DROP FUNCTION IF EXISTS ticket_search_ticket()",
    "DROP TABLE IF EXISTS ticket_search",
    "DROP FUNCTION IF EXISTS intake_search_vector(text)",
]


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("target_type", sa.String(length=50), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at", "id"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_email_at", "login_failures", ["email", "at"])
    op.create_index("ix_login_failures_ip_at", "login_failures", ["ip", "at"])
    for name, columns in TICKET_INDEXES.items():
        op.create_index(name, "tickets", columns)
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_UP if dialect == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_DOWN if dialect == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    for name in TICKET_INDEXES:
        op.drop_index(name, table_name="tickets")
    op.drop_index("ix_login_failures_ip_at", table_name="login_failures")
    op.drop_index("ix_login_failures_email_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
