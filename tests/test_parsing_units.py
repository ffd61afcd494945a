"""Unit tests of intake.parsing behaviour that the golden corpus does not pin."""
from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC

import pytest

from intake.parsing import (
    DEFAULT_LIMITS,
    Address,
    ParsedAttachment,
    ParsedMessage,
    ParseLimits,
    charsets,
    html_to_text,
    parse_message,
    sanitize_html,
)
from intake.parsing.addresses import parse_addresses
from intake.parsing.bodies import unflow
from intake.parsing.rfc2047 import decode_words

HEAD = b"From: a@example.org\r\nTo: b@example.org\r\nDate: Tue, 05 Mar 2024 10:15:00 +0100\r\n"


def test_public_names_and_defaults():
    assert ParseLimits() == DEFAULT_LIMITS
    assert DEFAULT_LIMITS.max_size == 50 * 1024 * 1024
    assert DEFAULT_LIMITS.max_parts == 1000
    assert DEFAULT_LIMITS.max_depth == 20
    assert DEFAULT_LIMITS.max_header_bytes == 1024 * 1024
    assert DEFAULT_LIMITS.max_decoded_bytes == 100 * 1024 * 1024
    with pytest.raises(dataclasses.FrozenInstanceError):
        Address("a", "b").email = "c"  # type: ignore[misc]
    assert {f.name for f in dataclasses.fields(ParsedAttachment)} >= {
        "filename", "content_type", "size", "sha256", "inline", "content_id", "data"}


def test_to_json_keys_and_header_lookup():
    parsed = parse_message(HEAD + b"X-Tag: one\r\nx-tag: two\r\nSubject: Hi\r\n\r\nBody\r\n")
    assert set(parsed.to_json()) == {
        "subject", "from_address", "from_name", "to", "cc", "reply_to", "date", "message_id",
        "in_reply_to", "references", "text", "html", "attachments", "problems", "limit_exceeded"}
    assert parsed.header("X-TAG") == ["one", "two"]
    assert parsed.first_header("x-tag") == "one"
    assert parsed.first_header("missing") is None
    assert parsed.headers[0] == ("From", "a@example.org")
    assert parsed.date.utcoffset().total_seconds() == 3600
    assert parsed.problems == [] and parsed.limit_exceeded is False


def test_attachment_data_not_in_json():
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
           b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.b64encode(b"%PDF-1.4 data") + b"\r\n--b--\r\n")
    parsed = parse_message(raw)
    assert parsed.attachments[0].data == b"%PDF-1.4 data"
    assert parsed.attachments[0].filename == "attachment-1.pdf"
    assert "data" not in parsed.to_json()["attachments"][0]


@pytest.mark.parametrize("raw", [None, "text message", 12, b"\x00" * 10, b"\r\n" * 5, b"--", b":"])
def test_odd_inputs_never_raise(raw):
    parsed = parse_message(raw)  # type: ignore[arg-type]
    assert isinstance(parsed, ParsedMessage)
    assert parsed.problems


def test_header_over_one_mebibyte_with_default_limits():
    filler = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 100) for i in range(12000))
    raw = HEAD + b"Subject: big\r\n" + filler + b"X-Late: yes\r\n\r\nThe body.\r\n"
    assert len(raw) > 1024 * 1024
    parsed = parse_message(raw)
    assert parsed.limit_exceeded
    assert parsed.text == "The body."
    assert parsed.subject == "big"
    assert parsed.first_header("X-Late") is None
    assert any("header block over" in p for p in parsed.problems)


def test_size_limit_truncates_but_keeps_size():
    raw = HEAD + b"Subject: s\r\n\r\n" + b"0123456789\r\n" * 1000
    parsed = parse_message(raw, ParseLimits(max_size=500))
    assert parsed.limit_exceeded and parsed.size == len(raw)
    assert parsed.text.startswith("0123456789") and len(parsed.text) < 500


def test_nesting_far_past_python_recursion_limit():
    depth = 3000
    body = b"Content-Type: text/plain\n\ndeep\n"
    for level in range(depth, 0, -1):
        body = b'Content-Type: multipart/mixed; boundary="%d"\n\n--%d\n%s--%d--\n' % (
            level, level, body, level)
    parsed = parse_message(HEAD + body, ParseLimits(max_depth=10 ** 6))
    assert parsed.limit_exceeded
    assert not any("internal" in p for p in parsed.problems)


def test_part_limit_is_exact_and_problems_are_capped():
    parts = b"".join(b"--p\r\nContent-Type: application/octet-stream; name=f%d.bin\r\n"
                     b"Content-Transfer-Encoding: base64\r\n\r\n!!%d\r\n" % (i, i)
                     for i in range(300))
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n' + parts + b"--p--\r\n"
    parsed = parse_message(raw, ParseLimits(max_parts=101))
    assert len(parsed.attachments) == 100  # the root counts as one part
    assert parsed.limit_exceeded
    assert len(parsed.problems) <= 51


def test_multipart_body_with_transfer_encoding():
    inner = b'--x\r\nContent-Type: text/plain\r\n\r\nhidden text\r\n--x--\r\n'
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="x"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(inner))
    parsed = parse_message(raw)
    assert parsed.text == "hidden text"
    assert any("transfer encoding" in p for p in parsed.problems)


def test_broken_tnef_is_kept_as_winmail_dat():
    blob = base64.b64encode(b"\x78\x9f\x3e\x22" + b"\xff" * 40)
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="t"\r\n\r\n--t\r\n'
           b'Content-Type: application/ms-tnef; name="winmail.dat"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--t--\r\n")
    parsed = parse_message(raw)
    assert [a.filename for a in parsed.attachments] == ["winmail.dat"]


def test_cid_reference_marks_attachment_inline():
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
           b'--m\r\nContent-Type: text/html\r\n\r\n<img src="cid:pic%40x">\r\n'
           b"--m\r\nContent-Type: image/gif\r\nContent-ID: <pic@x>\r\n\r\nGIF89a\r\n--m--\r\n")
    parsed = parse_message(raw)
    assert parsed.attachments[0].inline is True
    assert parsed.attachments[0].content_id == "pic@x"
    assert 'src="cid:pic%40x"' in parsed.html


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href='&#106;avascript:alert(1)'>x</a>",
    "<a href='vbscript:msgbox(1)'>x</a>",
    "<svg/onload=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<div style='width:expression(alert(1))'>x</div>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<div style='w\\idth: e\\xpression(alert(1))'>x</div>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<a href='data:text/html,<script>alert(1)</script>'>x</a>",
    "<img src='data:image/svg+xml,<svg onload=alert(1)>'>",
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    "<object data='javascript:alert(1)'></object><embed src=javascript:alert(1)>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<base href='javascript:alert(1)//'>",
    "<<img src=x onerror=alert(1)//<",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
])
def test_sanitize_html_makes_payloads_inert(payload):
    clean = sanitize_html(payload).lower()
    for bad in ("<script", "onerror", "onload", "javascript:", "vbscript:", "expression(",
                "<iframe", "<svg", "<object", "<embed", "<meta", "<base", "data:text",
                "data:image/svg", "formaction", "srcdoc"):
        assert bad not in clean, (payload, clean)


def test_sanitize_html_keeps_what_mail_needs():
    html = ('<p style="color: red">Hi <b>there</b></p><table><tr><td>1</td></tr></table>'
            '<img src="cid:logo@x" alt="logo"><img src="data:image/png;base64,iVBORw0KGgo=">'
            '<a href="https://example.com/">site</a><a href="mailto:a@b.example">mail</a>')
    clean = sanitize_html(html)
    assert 'style="color:red"' in clean and "<b>there</b>" in clean and "<td>1</td>" in clean
    assert 'src="cid:logo@x"' in clean and 'src="data:image/png;base64,iVBORw0KGgo="' in clean
    assert 'rel="noopener noreferrer"' in clean and 'href="mailto:a@b.example"' in clean
    assert sanitize_html('<a href="/admin/delete">x</a>') == \
        '<a target="_blank" rel="noopener noreferrer">x</a>'


def test_html_to_text():
    text = html_to_text("<html><head><title>T</title><style>p{}</style></head><body>"
                        "<p>One&amp;two</p><ul><li>a</li><li>b</li></ul>"
                        '<a href="https://x.example/">link</a><br>end<script>x()</script>')
    assert text == "One&two\n\n- a\n- b\n\nlink <https://x.example/>\nend"
    assert html_to_text("") == ""


def test_unflow():
    assert unflow("a \nb\n") == "ab\n" or unflow("a \nb\n") == "a b\n"
    assert unflow("one \ntwo\n") == "one two\n"
    assert unflow("no \nspace\n", delsp=True) == "nospace\n"
    assert unflow("> q \n> r\n>> s\n") == "> q r\n>> s\n"
    assert unflow("-- \nsig\n") == "-- \nsig\n"


@pytest.mark.parametrize("data, label, expected", [
    ("朱镕基".encode("gbk"), "gb2312", "朱镕基"),
    ("①".encode("cp932"), "shift_jis", "①"),
    ("똠".encode("cp949"), "euc-kr", "똠"),
    (b"\x80 \x93q\x94", "iso-8859-1", "€ “q”"),
    ("déjà".encode(), "iso-8859-1", "déjà"),
    ("déjà".encode(), "us-ascii", "déjà"),
    ("Grüße".encode("utf-7"), "utf-7", "Grüße"),
    (b"plain", "zlib", "plain"),
    (b"\\u0041", "unicode_escape", "\\u0041"),
    (b"caf\xe9", "utf-8", "café"),
])
def test_charset_decoding(data, label, expected):
    assert charsets.decode(data, label) == expected


def test_charset_decoding_never_raises_and_scrubs():
    assert charsets.scrub("a\ud800b") == "a\ufffdb"  # UTF-7 can decode to lone surrogates
    assert "\ud800" not in charsets.decode(b"+2AA-", "utf-7")
    assert charsets.decode(b"a\x00b", None) == "ab"
    for label in ("base64", "rot13", "idna", "undefined", "", "???", "utf-16", "x" * 300):
        assert isinstance(charsets.decode(bytes(range(256)), label), str)


def test_rfc2047():
    assert decode_words("=?utf-8?B?5Lit?= =?utf-8?B?5paH?=") == "中文"  # split character
    assert decode_words("Re: =?utf-8?Q?a_b?= c") == "Re: a b c"
    assert decode_words("=?utf-8*en?Q?lang?=") == "lang"
    assert decode_words("=?utf-8?B?bad*base64") == "=?utf-8?B?bad*base64"
    assert decode_words("x =?bogus?Q?=E9?= y") == "x é y"


@pytest.mark.parametrize("value, expected", [
    ("foo@bar (Mail Delivery System)", [("Mail Delivery System", "foo@bar")]),
    ('"Last, First" <First.Last@Example.COM>', [("Last, First", "First.Last@Example.COM")]),
    ("a@x; b@y", [("", "a@x"), ("", "b@y")]),
    ("undisclosed-recipients:;", []),
    ("John Smith", [("John Smith", "")]),
    ("MAILER-DAEMON", [("", "MAILER-DAEMON")]),
    ("<@route.example:user@host.example>", [("", "user@host.example")]),
    ('"=?utf-8?Q?Ren=C3=A9e?=" <r@x>', [("Renée", "r@x")]),
    ("=?utf-8?Q?Doe=2C_John?= <j@x>", [("Doe, John", "j@x")]),
    ('"unterminated <x@y>', [("unterminated <x@y>", "")]),
    ('"john doe"@example.com', [("", '"john doe"@example.com')]),
    ("<>", []),
])
def test_addresses(value, expected):
    assert [(a.name, a.email) for a in parse_addresses(value)] == expected


def test_date_without_zone_is_utc():
    parsed = parse_message(b"From: a@b\r\nDate: 5 Mar 2024 10:15:00\r\n\r\nx")
    assert parsed.date.tzinfo == UTC


def test_json_roundtrip_of_golden_like_message():
    raw = (HEAD + b"Subject: =?utf-8?B?4pyT?=\r\nIn-Reply-To: <a@b>\r\n"
           b"References: <r@b>\r\n  <a@b>\r\n\r\nok")
    data = json.loads(json.dumps(parse_message(raw).to_json()))
    assert data["subject"] == "✓"
    assert data["references"] == ["r@b", "a@b"]
    assert data["date"] == "2024-03-05T10:15:00+01:00"


def test_charset_detection_is_capped_per_message():
    text = "Здравствуйте! Прошу помочь с настройкой почты.".encode("cp1251")
    parts = b"".join(b"--p\r\nContent-Type: text/plain\r\n\r\n" + text + b"\r\n"
                     for _ in range(60))
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n' + parts + b"--p--\r\n"
    parsed = parse_message(raw)
    assert parsed.text.startswith("Здравствуйте!")
    assert any("(fallback)" in p for p in parsed.problems)
    # the cap is per message: the next message gets its detections again
    assert parse_message(HEAD + b"\r\n" + text).text.startswith("Здравствуйте!")


@pytest.mark.parametrize("html", [
    "<div>" * 100_000 + "deep",
    "<span>" * 999 + "<b>x</i>" * 20_000 + "deep",
    "<div>" * 199 + "<div></div>" * 300_000 + "deep",
], ids=["deep-divs", "stray-end-tags", "deep-and-wide"])
def test_pathological_html_is_shown_as_text_quickly(html):
    raw = HEAD + b"Content-Type: text/html\r\n\r\n" + html.encode()
    parsed = parse_message(raw)
    assert parsed.text.endswith("deep")
    assert parsed.html.startswith("<pre>")
    assert any("too deeply nested" in p for p in parsed.problems)
    assert html_to_text(html).endswith("deep")
