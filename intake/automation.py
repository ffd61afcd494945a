"""Is a message machine-made? Auto-replies, bulk/list mail, loops and bounces. Pure.

What is detected is recorded on the article (``flags``) and decides two things: a
bounce attaches to the ticket it is about, and no machine-made message ever
triggers an automatic answer (:mod:`intake.autoanswer` caps the rest per sender).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32

from .parsing import ParsedMessage
from .parsing.msgids import parse_ids

#: Local parts of senders that are machines.
MACHINE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+-].*)?@", re.I)
BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")
ORIGINAL_TYPES = ("message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers")


@dataclass
class Automation:
    auto_reply: bool = False  # an automatic answer (out of office, autoresponder)
    bulk: bool = False  # list or bulk mail
    loop: bool = False  # from one of our own addresses, or marked by X-Intake-Loop
    bounce: bool = False  # a delivery status report
    reasons: list[str] = field(default_factory=list)
    failed_recipients: list[str] = field(default_factory=list)
    original_message_id: str | None = None  # the message a bounce is about

    @property
    def machine_made(self) -> bool:
        return self.auto_reply or self.bulk or self.loop or self.bounce

    def flags(self) -> dict:
        found = {name: True for name in ("auto_reply", "bulk", "loop", "bounce") if getattr(self, name)}
        if found:
            found["automation_reasons"] = self.reasons
        if self.failed_recipients:
            found["failed_recipients"] = self.failed_recipients
        return found


def detect(message: ParsedMessage, own_addresses: set[str]) -> Automation:
    found = Automation()
    header = message.first_header

    auto_submitted = (header("Auto-Submitted") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        found.auto_reply = True
        found.reasons.append(f"Auto-Submitted: {auto_submitted}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        value = header(name)
        if value and (name != "X-Auto-Response-Suppress" or re.search(r"\b(all|oof|autoreply)\b", value, re.I)):
            found.auto_reply = True
            found.reasons.append(f"{name}: {value.strip()[:60]}")
    precedence = (header("Precedence") or "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        found.auto_reply |= precedence == "auto_reply"
        found.bulk |= precedence != "auto_reply"
        found.reasons.append(f"Precedence: {precedence}")
    if header("List-Id"):
        found.bulk = True
        found.reasons.append("List-Id header")

    sender = message.from_.email if message.from_ else ""
    return_path = (header("Return-Path") or "").strip()
    if MACHINE_SENDERS.match(sender) or return_path == "<>":
        found.auto_reply = True
        found.reasons.append(f"machine sender {sender or 'with empty Return-Path'}")
    if sender.lower() in own_addresses:
        found.loop = True
        found.reasons.append(f"sent from our own address {sender}")
    if (header("X-Intake-Loop") or "").strip().lower() in ("1", "yes", "true"):
        found.loop = True
        found.reasons.append("X-Intake-Loop header")

    _detect_bounce(message, found)
    return found


def _detect_bounce(message: ParsedMessage, found: Automation) -> None:
    content_type = (message.first_header("Content-Type") or "").lower()
    reports = [a for a in message.attachments if a.content_type in REPORT_TYPES]
    if "multipart/report" not in content_type and not reports:
        return
    found.bounce = True
    found.reasons.append("delivery status report")
    for report in reports:
        found.failed_recipients += _failed_recipients(report.data)
    for original in (a for a in message.attachments if a.content_type in ORIGINAL_TYPES):
        headers = BytesHeaderParser(policy=compat32).parsebytes(original.data[:64 * 1024])
        ids = parse_ids(str(headers.get("Message-ID", "")))
        if ids:
            found.original_message_id = ids[0]
            break


def _failed_recipients(report: bytes) -> list[str]:
    """Final-Recipient of every per-recipient block whose Action is failed (RFC 3464)."""
    recipients = []
    text = report.decode("utf-8", "replace").replace("\r\n", "\n")
    for block in re.split(r"\n\s*\n", text):
        action = re.search(r"^Action:\s*(\S+)", block, re.I | re.M)
        recipient = re.search(r"^(?:Final|Original)-Recipient:\s*[^;]*;\s*(\S+)", block, re.I | re.M)
        if recipient and (action is None or action.group(1).lower() == "failed"):
            recipients.append(recipient.group(1).strip("<>"))
    return list(dict.fromkeys(recipients))
