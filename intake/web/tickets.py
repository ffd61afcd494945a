"""What support staff see: the ticket list and one ticket."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Ticket

bp = Blueprint("tickets", __name__)


@bp.get("/")
@login_required
def index():
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(100))
    return render_template("tickets/list.html", tickets=list(tickets))


@bp.get("/tickets/<number>")
@login_required
def show(number: str):
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        abort(404)
    return render_template("tickets/show.html", ticket=ticket)
