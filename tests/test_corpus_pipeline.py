"""Every message of the 6,046-message SpamAssassin corpus becomes a ticket (or a follow-up) through the real pipeline."""
from __future__ import annotations

from sqlalchemy import func, select

from intake.extensions import db
from intake.ingest import Ingestor
from intake.models import Article, CollectedMessage, FailedMessage, MailAccount
from tests.test_parsing_corpus import corpus  # noqa: F401 - the fixture (fails under CI when the corpus is missing)

BATCH = 200


def test_every_corpus_message_yields_a_ticket(app, corpus):  # noqa: F811
    account = MailAccount(name="corpus", protocol="imap", host="h", username="u", password="p")
    db.session.add(account)
    db.session.commit()
    ingestor = Ingestor(db.session, app.config, account)
    outcomes: dict[str, int] = {}
    for start in range(0, len(corpus), BATCH):
        batch = [(f"file:{path.name}", raw) for path, raw in corpus[start:start + BATCH]]
        for result in ingestor.process_batch(batch):
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        db.session.commit()
    assert outcomes.get("failed", 0) == 0 and db.session.scalar(select(func.count(FailedMessage.id))) == 0
    distinct = db.session.scalar(select(func.count(func.distinct(CollectedMessage.sha256))))
    assert outcomes.get("duplicate", 0) == len(corpus) - distinct, "only byte-identical files are duplicates"
    assert outcomes["new-ticket"] + outcomes.get("follow-up", 0) == distinct
    assert db.session.scalar(select(func.count(Article.id))) == distinct
