"""Schema migrations with Alembic, on the app's own database connection."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .extensions import db

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(revision: str = "head") -> None:
    with db.engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def revision(message: str) -> None:
    """Autogenerate a new migration from the models (for developers)."""
    with db.engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)


def is_current() -> bool:
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
        heads = ScriptDirectory.from_config(_config(connection)).get_heads()
    return set(current) == set(heads)
