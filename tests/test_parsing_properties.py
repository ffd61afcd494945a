"""Property tests: no input makes parse_message raise or misbehave.

Three generators: mutations of the golden messages (byte flips, cuts,
insertions, duplications), random MIME trees with hostile headers, and
header garbage.  Under CI the examples are derandomized (reproducible);
locally each run explores new ones.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.parsing import ParsedMessage, ParseLimits, parse_message, sanitize_html

MAIL_DIR = Path(__file__).parent / "data" / "mail"
SEEDS = [p.read_bytes() for p in sorted(MAIL_DIR.glob("*.eml")) if p.stat().st_size < 20000]

SETTINGS = settings(
    max_examples=int(os.environ.get("INTAKE_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SMALL_LIMITS = ParseLimits(max_size=64 * 1024, max_parts=40, max_depth=6,
                           max_header_bytes=4096, max_decoded_bytes=32 * 1024)


def assert_sane(parsed: ParsedMessage, raw: bytes) -> None:
    assert isinstance(parsed, ParsedMessage)
    internal = [p for p in parsed.problems if p.startswith("internal parser error")]
    assert not internal, internal
    assert isinstance(parsed.text, str) and "\x00" not in parsed.text
    assert parsed.html is None or "<script" not in parsed.html.lower()
    assert parsed.size == len(raw)
    json.dumps(parsed.to_json())
    for attachment in parsed.attachments:
        assert attachment.size == len(attachment.data)
        assert attachment.filename and "/" not in attachment.filename


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "dup", "crlf"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 200))]
        elif op == "dup":
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 400))]
        else:
            data[pos:pos] = draw(st.sampled_from(
                [b"\r", b"\n", b"\r\n\r\n", b"\n--", b"=?", b"?="]))
    return bytes(data)


CTYPES = ["text/plain", "text/html", "image/png", "application/octet-stream", "message/rfc822",
          "text/calendar", "application/ms-tnef", "text/enriched", "multipart/alternative",
          "text", "garbage", ""]
CHARSETS = ["utf-8", "gb2312", "shift_jis", "utf-7", "iso-2022-jp", "x-bogus", "zlib",
            "unicode_escape", "utf-16", "", "\"", "iso-8859-1"]
CTES = ["base64", "quoted-printable", "7bit", "x-uuencode", "bogus", ""]
text_bytes = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"=?utf-8?B?w6k=?=", b"=?gb2312?Q?=D6=D0?=", b"+AGEAYgBj-", b"=\n",
                     b"\x78\x9f\x3e\x22\x01\x00", b"begin 644 x\n#86)C\n`\nend\n"]),
)


def leaf(draw) -> bytes:
    headers = []
    if draw(st.booleans()):
        params = ""
        if draw(st.booleans()):
            params += f'; charset="{draw(st.sampled_from(CHARSETS))}"'
        if draw(st.booleans()):
            params += "; name*0*=utf-8''a%E2%82; name*1*=%AC.txt"
        if draw(st.booleans()):
            params += "; format=flowed; delsp=yes"
        headers.append(f"Content-Type: {draw(st.sampled_from(CTYPES))}{params}".encode())
    if draw(st.booleans()):
        headers.append(b"Content-Transfer-Encoding: " + draw(st.sampled_from(CTES)).encode())
    if draw(st.booleans()):
        headers.append(b"Content-Disposition: " + draw(st.sampled_from(
            [b"attachment", b"inline", b'attachment; filename="=?utf-8?Q?x?="', b"\xff\xfe"])))
    if draw(st.booleans()):
        headers.append(b"Content-ID: <" + draw(st.binary(max_size=10)) + b">")
    return b"\r\n".join(headers) + b"\r\n\r\n" + draw(text_bytes)


@st.composite
def mime_tree(draw, depth: int = 0) -> bytes:
    if depth >= 4 or draw(st.integers(0, 3)) == 0:
        return leaf(draw)
    boundary = draw(st.sampled_from(["b", "b1", "=_x", "bound ary", "a" * 70]))
    kind = draw(st.sampled_from(["mixed", "alternative", "related", "digest", "report", "signed"]))
    children = draw(st.lists(mime_tree(depth + 1), min_size=0, max_size=4))
    body = b"".join(f"\r\n--{boundary}\r\n".encode() + child for child in children)
    if draw(st.booleans()):
        body += f"\r\n--{boundary}--\r\n".encode()
    head = f'Content-Type: multipart/{kind}; boundary="{boundary}"'.encode()
    return head + b"\r\n\r\n" + draw(st.binary(max_size=20)) + body


@st.composite
def message_tree(draw) -> bytes:
    tree = draw(mime_tree())
    headers = draw(st.lists(st.sampled_from([
        b"From: =?utf-8?B?w6k=?= <a@b>", b"From: (only a comment)", b"From: \"unterminated <x",
        b"To: group: a@b, <c@d>;, ;;,", b"Subject: =?utf-7?B?K2w=?= \xff\xfe",
        b"Date: 31 Feb 99999",
        b"Date: Mon, 1 Jan 2024 25:61:61 +9999", b"References: <a> <<b>> <", b"Reply-To: <>",
        b"Message-ID: <<>>", b" continuation first", b"Sender: \x00@\x00",
    ]), max_size=6))
    return b"\r\n".join([*headers, b"MIME-Version: 1.0"]) + b"\r\n" + tree


@SETTINGS
@given(mutated())
def test_mutated_golden_messages(raw: bytes) -> None:
    assert_sane(parse_message(raw), raw)


@SETTINGS
@given(message_tree())
def test_random_mime_trees(raw: bytes) -> None:
    assert_sane(parse_message(raw), raw)
    assert_sane(parse_message(raw, SMALL_LIMITS), raw)


@SETTINGS
@given(st.lists(st.binary(max_size=80), max_size=20), st.binary(max_size=200))
def test_header_garbage(lines: list[bytes], body: bytes) -> None:
    raw = b"\r\n".join(lines) + b"\r\n\r\n" + body
    assert_sane(parse_message(raw), raw)


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw: bytes) -> None:
    assert_sane(parse_message(raw, SMALL_LIMITS), raw)


@SETTINGS
@given(st.text(max_size=500))
def test_sanitize_html_total(html: str) -> None:
    clean = sanitize_html(html)
    assert isinstance(clean, str)
    assert "<script" not in clean.lower()
