"""Alembic environment: migrations run on the connection Intake hands over (see intake/migrate.py)."""
from alembic import context

from intake import models  # noqa: F401 - registers every table on the metadata
from intake.extensions import db
from intake.search import include_object

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=db.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
    # The full-text search index (FTS5 / tsvector + triggers) is created by migration
    # 0003_web and not modelled by the ORM: leave it out of autogenerate's comparison.
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
