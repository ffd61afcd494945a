"""Alembic environment: migrations run on the connection Intake hands over (see intake/migrate.py)."""
from alembic import context

from intake import models  # noqa: F401 - registers every table on the metadata
from intake.extensions import db

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=db.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
