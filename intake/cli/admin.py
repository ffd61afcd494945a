"""`intake init`, `intake queues …`, `intake addresses …`, `intake users …`."""
from __future__ import annotations

import os

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from .. import migrate
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..models import Queue, SystemAddress, User
from . import accounts
from ._util import emit_json, table


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(queues)
    cli.add_command(addresses)
    cli.add_command(users)
    cli.add_command(db_group)
    accounts.register(cli)


@click.command()
@click.option("--admin-email", help="Create (or update) an administrator with this e-mail address.")
@click.option("--admin-password-env", metavar="VAR", help="Environment variable holding the administrator's password.")
@with_appcontext
def init(admin_email: str | None, admin_password_env: str | None) -> None:
    """Create or upgrade the database schema, the default queue, and optionally an administrator."""
    from flask import current_app

    migrate.upgrade()
    ensure_default_queue(current_app.config["DEFAULT_QUEUE"])
    if admin_email:
        if not admin_password_env:
            raise click.UsageError("--admin-email needs --admin-password-env VAR (the password is never a command-line argument)")
        password = os.environ.get(admin_password_env)
        if not password:
            raise ValidationError(f"environment variable {admin_password_env} is empty or not set")
        save_user(admin_email, password, admin=True)
    db.session.commit()
    click.echo(f"database ready: {_safe_url(db.engine.url)}")


def ensure_default_queue(name: str) -> Queue:
    queue = db.session.scalar(select(Queue).where(Queue.name == name))
    if queue is None:
        queue = Queue(name=name, comment="mail no rule places elsewhere")
        db.session.add(queue)
        db.session.flush()
    return queue


def save_user(email: str, password: str, admin: bool = False) -> User:
    email = email.strip()
    if "@" not in email:
        raise ValidationError(f"{email!r} is not an e-mail address")
    if len(password) < 8:
        raise ValidationError("the password must have at least 8 characters")
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None:
        user = User(email=email)
        db.session.add(user)
    user.password_hash = generate_password_hash(password)
    user.is_admin = admin or user.is_admin
    db.session.flush()
    return user


def _safe_url(url) -> str:
    return url.render_as_string(hide_password=True)


# --- queues ---
@click.group(cls=AppGroup)
def queues() -> None:
    """Manage queues."""


@queues.command("add")
@click.argument("name")
@click.option("--comment", default="")
def queues_add(name: str, comment: str) -> None:
    name = name.strip()
    if not name:
        raise ValidationError("a queue needs a name")
    if db.session.scalar(select(Queue).where(Queue.name == name)):
        raise ValidationError(f"queue {name!r} exists already")
    db.session.add(Queue(name=name, comment=comment))
    db.session.commit()
    click.echo(f"queue {name} added")


@queues.command("list")
@click.option("--json", "as_json", is_flag=True)
def queues_list(as_json: bool) -> None:
    rows = [{"id": q.id, "name": q.name, "comment": q.comment} for q in db.session.scalars(select(Queue).order_by(Queue.name))]
    emit_json(rows) if as_json else table([[r["id"], r["name"], r["comment"]] for r in rows], ["ID", "NAME", "COMMENT"])


# --- system addresses ---
@click.group(cls=AppGroup)
def addresses() -> None:
    """Map system addresses to queues (dispatch by recipient)."""


@addresses.command("add")
@click.argument("email")
@click.option("--queue", "queue_name", required=True)
def addresses_add(email: str, queue_name: str) -> None:
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationError(f"{email!r} is not an e-mail address")
    queue = db.session.scalar(select(Queue).where(Queue.name == queue_name))
    if queue is None:
        raise NotFound(f"there is no queue {queue_name!r}; create it with `intake queues add {queue_name}`")
    existing = db.session.scalar(select(SystemAddress).where(SystemAddress.email == email))
    if existing:
        existing.queue = queue
    else:
        db.session.add(SystemAddress(email=email, queue=queue))
    db.session.commit()
    click.echo(f"{email} → {queue.name}")


@addresses.command("list")
@click.option("--json", "as_json", is_flag=True)
def addresses_list(as_json: bool) -> None:
    rows = [{"id": a.id, "email": a.email, "queue": a.queue.name}
            for a in db.session.scalars(select(SystemAddress).order_by(SystemAddress.email))]
    emit_json(rows) if as_json else table([[r["id"], r["email"], r["queue"]] for r in rows], ["ID", "EMAIL", "QUEUE"])


# --- users ---
@click.group(cls=AppGroup)
def users() -> None:
    """Manage people who log in."""


@users.command("add")
@click.argument("email")
@click.option("--password-env", metavar="VAR", required=True, help="Environment variable holding the password.")
@click.option("--admin", is_flag=True, help="Administrator (else agent).")
def users_add(email: str, password_env: str, admin: bool) -> None:
    password = os.environ.get(password_env)
    if not password:
        raise ValidationError(f"environment variable {password_env} is empty or not set")
    save_user(email, password, admin=admin)
    db.session.commit()
    click.echo(f"user {email} saved")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    rows = [{"id": u.id, "email": u.email, "admin": u.is_admin, "active": u.active}
            for u in db.session.scalars(select(User).order_by(User.email))]
    emit_json(rows) if as_json else table([list(r.values()) for r in rows], ["ID", "EMAIL", "ADMIN", "ACTIVE"])


# --- schema (for developers and upgrades) ---
@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (`intake init` does this too)."""
    migrate.upgrade()
    click.echo("schema is current")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (review it before committing)."""
    migrate.revision(message)
