"""One raw message through the pipeline: dedup → parse → route → store, or keep it as failed mail.

Used by the collection run, ``intake import`` and ``intake failed reprocess`` alike.
Nothing here commits: the caller commits a batch, and only then touches the server.
Each message runs in its own savepoint, so one message that raises is stored as
failed mail (raw + error) and the batch goes on.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Article, CollectedMessage, FailedMessage, MailAccount, Queue, SystemAddress, Ticket
from .parsing import parse_message
from .routing import AccountFacts, Outcome, RoutingContext, TicketRef, route
from .tickets import queue_ids, store, store_raw

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    outcome: str  # new-ticket, follow-up, ignored, failed, duplicate
    ticket_number: str | None = None
    article_id: int | None = None
    failed_id: int | None = None
    error: str | None = None


class Ingestor:
    """Processes raw messages for one account (or for an import). Build one per run."""

    def __init__(self, session: Session, config, account: MailAccount | None = None, queue: str | None = None):
        self.session = session
        self.system_id = str(config["SYSTEM_ID"])
        self.account = account
        self.queue_ids = queue_ids(session)
        default_queue = config["DEFAULT_QUEUE"]
        if default_queue not in self.queue_ids:
            self.session.add(Queue(name=default_queue))
            self.session.flush()
            self.queue_ids = queue_ids(session)
        self.context = RoutingContext(
            default_queue=default_queue,
            queues=set(self.queue_ids),
            addresses={a.email.lower(): a.queue.name for a in session.scalars(select(SystemAddress))},
            ticket_hook=config["TICKET_HOOK"],
            find_ticket_by_number=self._ticket_by_number,
            find_ticket_by_message_ids=self._ticket_by_message_ids,
        )
        if account is not None:
            self.facts = AccountFacts(
                id=account.id, name=account.name, trusted=account.trusted, dispatch=account.dispatch,
                queue=account.queue.name if account.queue else None,
            )
        else:
            self.facts = AccountFacts(id=None, name="import", dispatch="queue" if queue else "to", queue=queue)

    # -- the pipeline --
    def process(self, raw: bytes, server_key: str | None = None) -> IngestResult:
        sha256 = hashlib.sha256(raw).hexdigest()
        if self.account is not None and self._seen_content(sha256):
            self._remember(server_key, sha256, None, "duplicate")
            return IngestResult("duplicate")
        savepoint = self.session.begin_nested()
        try:
            result = self._store(raw, sha256, server_key)
            savepoint.commit()
            return result
        except Exception as exc:  # noqa: BLE001 - any failure becomes failed mail, never a lost message
            savepoint.rollback()
            log.warning("message from account %s failed: %s", self.facts.name, exc, exc_info=True)
            return self.store_failed(raw, sha256, server_key, f"{type(exc).__name__}: {exc}")

    def _store(self, raw: bytes, sha256: str, server_key: str | None) -> IngestResult:
        message = parse_message(raw)
        decision = route(message, self.facts, self.context)
        if decision.outcome is Outcome.IGNORE:
            self._remember(server_key, sha256, message.message_id, Outcome.IGNORE.value)
            return IngestResult(Outcome.IGNORE.value)
        raw_row = store_raw(self.session, raw)
        article = store(self.session, decision, message, raw_row, account_id=self.facts.id,
                        system_id=self.system_id, queue_ids=self.queue_ids)
        self.session.flush()
        self._remember(server_key, sha256, message.message_id, decision.outcome.value, article_id=article.id)
        return IngestResult(decision.outcome.value, ticket_number=article.ticket.number, article_id=article.id)

    def store_failed(self, raw: bytes, sha256: str, server_key: str | None, error: str) -> IngestResult:
        failed = FailedMessage(account_id=self.facts.id, raw=store_raw(self.session, raw),
                               server_key=server_key, error=error[:10000])
        self.session.add(failed)
        self.session.flush()
        self._remember(server_key, sha256, None, "failed", failed_id=failed.id)
        return IngestResult("failed", failed_id=failed.id, error=error)

    # -- dedup keys --
    def _seen_content(self, sha256: str) -> bool:
        query = select(CollectedMessage.id).where(
            CollectedMessage.account_id == self.account.id, CollectedMessage.sha256 == sha256
        )
        return self.session.execute(query.limit(1)).first() is not None

    def _remember(self, server_key, sha256, message_id, outcome, article_id=None, failed_id=None) -> None:
        if self.account is None or server_key is None:
            return
        self.session.add(CollectedMessage(
            account_id=self.account.id, server_key=server_key, sha256=sha256,
            message_id=(message_id or "")[:998] or None, outcome=outcome,
            article_id=article_id, failed_id=failed_id,
        ))

    # -- lookups handed to routing --
    def _ticket_by_number(self, number: str) -> TicketRef | None:
        ticket = self.session.scalar(select(Ticket).where(Ticket.number == number))
        return _ref(ticket)

    def _ticket_by_message_ids(self, ids: list[str]) -> TicketRef | None:
        ids = [i for i in ids if i][:50]
        if not ids:
            return None
        query = select(Ticket).join(Article).where(Article.message_id.in_(ids)).order_by(Article.id.desc()).limit(1)
        return _ref(self.session.scalar(query))


def _ref(ticket: Ticket | None) -> TicketRef | None:
    if ticket is None:
        return None
    return TicketRef(id=ticket.id, number=ticket.number, queue=ticket.queue.name, state=ticket.state)
