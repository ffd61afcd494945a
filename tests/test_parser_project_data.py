"""The test messages of a maintained parser project — CPython's email package (test/test_email/data) — all
parse without an exception and all become tickets through the real pipeline."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.extensions import db
from intake.ingest import Ingestor
from intake.models import Article, FailedMessage
from intake.parsing import parse_message


def cpython_email_messages() -> list[Path]:
    spec = importlib.util.find_spec("test.test_email")
    if spec is None or not spec.submodule_search_locations:
        message = "CPython's test suite is not installed (Debian: libpython3.X-testsuite; scripts/test installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return sorted(Path(next(iter(spec.submodule_search_locations)), "data").glob("msg_*.txt"))


def test_cpython_email_test_messages_parse_and_become_tickets(app):
    files = cpython_email_messages()
    assert len(files) >= 40
    raws = [path.read_bytes() for path in files]
    for path, raw in zip(files, raws):
        parsed = parse_message(raw)
        assert isinstance(parsed.text, str), path.name
    results = Ingestor(db.session, app.config).process_batch([(None, raw) for raw in raws])
    db.session.commit()
    assert {r.outcome for r in results} <= {"new-ticket", "follow-up"}, [r.error for r in results if r.error]
    assert db.session.scalar(select(func.count(Article.id))) == len(raws)
    assert db.session.scalar(select(func.count(FailedMessage.id))) == 0
