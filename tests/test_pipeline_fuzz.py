"""Property: whatever bytes arrive, the pipeline never raises and every message is stored (ticket or failed)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from intake.extensions import db
from intake.ingest import Ingestor
from intake.models import CollectedMessage, MailAccount
from tests.conftest import make_message

SEED = make_message("Seed message", headers={"X-Intake-Queue": "Raw", "References": "<a@b> <c@d>"},
                    body="Hello Ticket#2026112310000001\n" * 20)


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from([SEED, SEED.replace(b"\n", b"\r\n"), b"", b"\x00" * 10])))
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[position:position] = draw(st.binary(max_size=40) | st.sampled_from(
                [b"\r\n\r\n", b"=?utf-8?B?", b"Content-Type: multipart/mixed; boundary=x\r\n", b"--x\r\n", b"\xff\xfe"]))
        elif kind == "delete":
            del data[position:position + draw(st.integers(1, 50))]
        elif kind == "truncate":
            del data[position:]
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(mutated(), min_size=1, max_size=5))
def test_mutated_messages_are_always_stored(app, batch):
    account = db.session.scalar(select(MailAccount))
    if account is None:
        account = MailAccount(name="fuzz", protocol="imap", host="h", username="u", password="p")
        db.session.add(account)
        db.session.commit()
    before = db.session.scalar(select(func.count(CollectedMessage.id)))
    ingestor = Ingestor(db.session, app.config, account)
    keys = [(f"k{before + i}", raw) for i, raw in enumerate(batch)]
    results = ingestor.process_batch(keys)
    db.session.commit()
    assert [r.outcome in ("new-ticket", "follow-up", "failed", "duplicate") for r in results] == [True] * len(batch)
    assert db.session.scalar(select(func.count(CollectedMessage.id))) == before + len(batch)
