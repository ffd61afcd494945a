"""HTML bodies: sanitizing for display (nh3).  (Plain text: htmltext.py.)

sanitize_html policy (also used by the web UI):

* kept: basic formatting, headings, lists, quotes, pre/code, tables, <font>,
  links and images; inline ``style`` restricted to a list of harmless
  properties, and any declaration mentioning expression(), url(),
  javascript:, behavior, -moz-binding, @import or using CSS escapes or
  comments is dropped;
* removed with their content: script, style, title, svg, math, iframe,
  object, embed, template, noscript, textarea, xmp, noembed, noframes;
* removed (text kept): every other tag, e.g. form controls;
* removed attributes: all event handlers (on*), id, class, anything not
  listed below;
* URLs: http, https, mailto, tel and cid (inline images, kept as they are
  for the web UI to rewrite).  data: is allowed *only* as an <img src> of a
  raster image type (png, gif, jpeg, webp, bmp); relative URLs are dropped
  (they would resolve against the helpdesk itself);
* links get rel="noopener noreferrer" and target="_blank".
"""
from __future__ import annotations

import html as html_lib
import re

import nh3

from .limits import MAX_HTML_DEPTH, MAX_HTML_WORK

_TAGS = (set(nh3.ALLOWED_TAGS) | {"font", "big", "tfoot", "address", "section"}) - {
    "area", "map"}
CLEAN_CONTENT = {"script", "style", "title", "svg", "math", "iframe", "object", "embed",
                  "template", "noscript", "textarea", "xmp", "noembed", "noframes"}
_GENERIC = {"style", "title", "dir", "lang", "align", "valign", "width", "height", "bgcolor"}
_ATTRIBUTES = {
    "*": _GENERIC,
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "border", "hspace", "vspace"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "nowrap", "headers", "scope"},
    "th": {"colspan", "rowspan", "nowrap", "headers", "scope"},
    "col": {"span"}, "colgroup": {"span"},
    "ol": {"start", "type", "reversed"}, "ul": {"type"}, "li": {"value"},
    "blockquote": {"type"}, "hr": {"size", "noshade"}, "time": {"datetime"},
}
_STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-weight",
    "font-style", "font-variant", "text-decoration", "text-align", "text-indent",
    "text-transform", "vertical-align", "line-height", "letter-spacing", "word-spacing",
    "white-space", "direction", "width", "height", "max-width", "min-width", "max-height",
    "min-height", "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left", "border",
    "border-top", "border-right", "border-bottom", "border-left", "border-color",
    "border-width", "border-style", "border-collapse", "border-spacing", "border-radius",
    "list-style-type", "table-layout", "float", "clear",
}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_BAD_CSS = re.compile(r"expression|url\s*\(|javascript|vbscript|behavior|binding|@import|"
                      r"\\|/\*", re.I)
_DATA_IMAGE = re.compile(r"data:image/(png|gif|jpe?g|webp|bmp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_STRIP_URL = re.compile(r"[\x00-\x20\x7f]+")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # Must never raise: nh3 would report it through sys.unraisablehook.
    if attribute == "style":
        kept = [decl for decl in value.split(";") if decl.strip() and not _BAD_CSS.search(decl)]
        return "; ".join(d.strip() for d in kept) or None
    if attribute in ("href", "src"):
        compact = _STRIP_URL.sub("", value).lower()
        if compact.startswith("data:"):
            if tag == "img" and attribute == "src" and _DATA_IMAGE.match(value.strip()):
                return value
            return None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=CLEAN_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    strip_comments=True,
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
    url_schemes=_URL_SCHEMES,
    filter_style_properties=_STYLE_PROPERTIES,
    url_relative="deny",
)


_START_OR_END = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")
# Elements that never deepen the parser's stack of open elements: void ones
# and ones closed implicitly by their next sibling.
_FLAT = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "wbr", "param",
         "source", "track", "embed", "p", "li", "dt", "dd", "option", "tr", "td", "th",
         "tbody", "thead", "tfoot", "html", "head", "body"}


def too_complex(html: str) -> bool:
    """Whether parsing `html` would be too slow: nesting deeper than
    MAX_HTML_DEPTH, or tags x depth over MAX_HTML_WORK (an estimate that
    follows the parser's stack of open elements closely enough)."""
    tags = html.count("<")
    if tags <= MAX_HTML_DEPTH:
        return False
    stack: list[str] = []
    open_count: dict[str, int] = {}
    deepest = 0
    for match in _START_OR_END.finditer(html):
        name = match.group(2).lower()
        if name in _FLAT:
            continue
        if not match.group(1):
            stack.append(name)
            open_count[name] = open_count.get(name, 0) + 1
            if len(stack) > deepest:
                deepest = len(stack)
                if deepest > MAX_HTML_DEPTH or deepest * tags > MAX_HTML_WORK:
                    return True
        elif open_count.get(name):  # an end tag closes up to its element; stray ones do nothing
            while stack:
                top = stack.pop()
                open_count[top] -= 1
                if top == name:
                    break
    return False


_ANY_TAG = re.compile(r"<[^>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")


def as_text_html(html: str) -> str:
    """Escaped plain text in a <pre>, for HTML too complex to parse."""
    text = html_lib.unescape(_ANY_TAG.sub(" ", html))
    return "<pre>" + html_lib.escape(_BLANK_LINES.sub("\n\n", text).strip()) + "</pre>"


def sanitize_html(html: str) -> str:
    """Untrusted HTML -> HTML safe to embed in a page (see module docstring).

    HTML too complex to parse in reasonable time (see too_complex) comes
    back as escaped text in a <pre>.
    """
    return sanitize(html)[0]


def sanitize(html: str) -> tuple[str, bool]:
    """sanitize_html, and whether the HTML was too complex (made text)."""
    if not html:
        return "", False
    html = html.replace("\x00", "")
    if too_complex(html):
        return as_text_html(html), True
    return _CLEANER.clean(html), False
