"""Mail HTML for the browser: sanitized (intake.parsing.sanitize_html), then isolated.

The sanitized HTML is served as a document of its own, loaded into
``<iframe sandbox="allow-popups allow-popups-to-escape-sandbox">`` (no scripts, an
opaque origin) and sent with a CSP that allows no script at all and, unless the
reader asks for them, no remote images (``img-src 'self' data:``). ``cid:`` images
are rewritten to their attachment's inline URL. Three layers, each enough alone to
stop a script: the sanitizer, the sandbox, the CSP.
"""
from __future__ import annotations

import re

from flask import Response, current_app, render_template, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..models import Article
from ..parsing import sanitize_html

FRAME_CSP = ("default-src 'none'; img-src 'self' data:{remote}; style-src 'unsafe-inline'; "
             "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; "
             "sandbox allow-popups allow-popups-to-escape-sandbox")
#: How long a signed inline-image URL in a served article stays valid.
INLINE_TOKEN_SECONDS = 3600
_IMG_SRC = re.compile(r'(<img\b[^>]*?\s)src="([^"]*)"', re.IGNORECASE)


def _cid_key(value: str) -> str:
    return value.strip().strip("<>").lower()


def render(article: Article, allow_remote: bool) -> tuple[str, int]:
    """(sanitized HTML with cid: rewritten and remote images blocked, number of remote images)."""
    html = sanitize_html(article.body_html or "")
    cids = {_cid_key(a.content_id): a.id for a in article.attachments if a.content_id}
    remote = 0

    def image(match: re.Match) -> str:
        nonlocal remote
        head, src = match.group(1), match.group(2)
        lowered = src.lower()
        if lowered.startswith("cid:"):
            attachment_id = cids.get(_cid_key(src[4:]))
            if attachment_id is None:
                return f'{head}data-missing-cid="{src[4:]}"'
            return f'{head}src="{inline_image_url(attachment_id)}"'
        if lowered.startswith(("http:", "https:", "//")):
            remote += 1
            if not allow_remote:
                return f'{head}data-blocked-src="{src}"'
        return match.group(0)

    return _IMG_SRC.sub(image, html), remote


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="intake-inline-image")


def inline_image_url(attachment_id: int) -> str:
    """The URL of an inline image with a signed token: the sandboxed frame sends no cookies."""
    return url_for("ticket.attachment_inline", attachment_id=attachment_id, t=_signer().dumps(attachment_id))


def inline_token_valid(attachment_id: int, token: str) -> bool:
    try:
        return _signer().loads(token, max_age=INLINE_TOKEN_SECONDS) == attachment_id
    except BadSignature:
        return False


def count_remote_images(body_html: str | None) -> int:
    if not body_html:
        return 0
    html = sanitize_html(body_html)
    return sum(1 for m in _IMG_SRC.finditer(html) if m.group(2).lower().startswith(("http:", "https:", "//")))


def frame_response(article: Article, allow_remote: bool) -> Response:
    html, _ = render(article, allow_remote)
    body = render_template("tickets/article_frame.html", html=html)
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = FRAME_CSP.format(remote=" https: http:" if allow_remote else "")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response
