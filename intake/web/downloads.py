"""Responses for untrusted bytes: always a download, never rendered by the browser."""
from __future__ import annotations

from flask import Response, abort
from urllib.parse import quote

#: Image types shown inline (cid: images in mail HTML); anything else (SVG!) is never inline.
INLINE_IMAGE_TYPES = {"image/png", "image/gif", "image/jpeg", "image/webp", "image/bmp"}
SANDBOX_CSP = "default-src 'none'; sandbox"


def _filename_header(filename: str, disposition: str) -> str:
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)[:150] or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename[:200], safe='')}"


def download_response(data: bytes | None, filename: str, content_type: str) -> Response:
    """Content-Disposition: attachment, nosniff, a sandbox CSP; the type is never text/html."""
    response = Response(data or b"", mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = _filename_header(filename, "attachment")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


def inline_image_response(data: bytes | None, content_type: str) -> Response:
    content_type = (content_type or "").lower().split(";")[0].strip()
    if content_type not in INLINE_IMAGE_TYPES:
        abort(404)
    response = Response(data or b"", mimetype=content_type)
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
