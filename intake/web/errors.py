"""Error pages: every denial or failure is a page in the app's look, never a traceback."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
    413: "Too large", 429: "Too many attempts", 500: "Something went wrong",
}
EXPLANATIONS = {
    403: "Your account may not open this page. If you need it, ask an administrator for access.",
    404: "There is nothing at this address. It may have been deleted, or the link is mistyped.",
    429: "Too many failed attempts. Wait a few minutes and try again.",
    500: "The error has been logged. Try again; if it keeps happening, tell your administrator.",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)


def render_error(status: int, message: str | None = None):
    title = TITLES.get(status, "Error")
    explanation = message or EXPLANATIONS.get(status, "")
    if request.headers.get("HX-Request"):
        return render_template("errors/fragment.html", status=status, title=title, message=explanation), status
    return render_template("errors/error.html", status=status, title=title, message=explanation), status


def _csrf(error: CSRFError):
    return render_error(400, "The form was refused because its security token is missing or expired. "
                             "Go back, reload the page and submit again.")


def _http(error: HTTPException):
    description = error.description if error.code in (400, 429) and error.description else None
    if error.code in (400, 429) and description and description.startswith("The browser (or proxy)"):
        description = None
    return render_error(error.code or 500, description)


def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _http(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    from ..extensions import db

    db.session.rollback()
    return render_error(InternalServerError.code)
