"""Intake's mail parser: raw RFC 5322 bytes in, ParsedMessage out.

Pure (no I/O, no database, no Flask) and total: parse_message never raises;
whatever is wrong with a message is described in ParsedMessage.problems.

Modules:
  model        result types (Address, ParsedAttachment, ParsedMessage)
  limits       ParseLimits and the per-parse budget / problem list
  message      parse_message: the orchestration
  mime         the MIME tree (byte-level splitter, limits enforced)
  headers      header blocks, unfolding, decoding values
  rfc2047      encoded words
  charsets     bytes -> text with wrong/unknown charsets
  addresses    address lists and display names
  params       Content-Type / Content-Disposition parameters, RFC 2231
  dates        the Date header
  msgids       Message-ID, In-Reply-To, References
  transfer     Content-Transfer-Encoding decoders
  bodies       text bodies, format=flowed
  html         sanitize_html (nh3 policy) and the too-complex-HTML guard
  htmltext     html_to_text
  detection    charset guessing (charset-normalizer based)
  walk         choosing the body parts, collecting attachments
  attachments  attachment names, types and payloads
  tnef         winmail.dat unpacking
"""
from .html import sanitize_html
from .htmltext import html_to_text
from .limits import DEFAULT_LIMITS, ParseLimits
from .message import parse_message
from .model import Address, ParsedAttachment, ParsedMessage

__all__ = [
    "DEFAULT_LIMITS",
    "Address",
    "ParseLimits",
    "ParsedAttachment",
    "ParsedMessage",
    "html_to_text",
    "parse_message",
    "sanitize_html",
]
