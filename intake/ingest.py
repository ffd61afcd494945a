"""Raw messages through the pipeline: dedup → parse → route → store, or keep them as failed mail.

Used by the collection run (a batch at a time), ``intake import`` and
``intake failed reprocess``. Nothing here commits: the caller commits, and only then
touches the server.

The fast path stores a whole batch with one flush (SQLAlchemy batches the INSERTs).
If that flush fails, the batch is rolled back to its savepoint and redone one message
at a time, each in its own savepoint, so the one message that cannot be stored
becomes failed mail (raw + error) and the others are stored as usual.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .followup import OWN_MESSAGE_ID, FollowUpPolicy, ticket_numbers_in
from .models import (Article, CollectedMessage, FailedMessage, FilterRule, MailAccount, Queue, SystemAddress, Ticket,
                     utcnow)
from .parsing import ParsedMessage, parse_message
from .routing import AccountFacts, Outcome, RoutingContext, TicketRef, route
from .rules import CompiledRule, compile_rule
from .tickets import assign_ticket_numbers, owner_ids, queue_ids, store, store_raw

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    outcome: str  # new-ticket, follow-up, ignored, failed, duplicate
    ticket_number: str | None = None
    article_id: int | None = None
    failed_id: int | None = None
    error: str | None = None
    _article: Article | None = field(default=None, repr=False)
    _failed: FailedMessage | None = field(default=None, repr=False)

    def _resolve(self) -> "IngestResult":
        """Fill in ids once the batch is flushed."""
        if self._article is not None:
            self.article_id, self.ticket_number = self._article.id, self._article.ticket.number
        if self._failed is not None:
            self.failed_id = self._failed.id
        self._article = self._failed = None
        return self


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
            rules=load_rules(session),
            policy=follow_up_policy(config),
            find_ticket_by_number=self._ticket_by_number,
            find_ticket_by_message_ids=self._ticket_by_message_ids,
            ticket_senders=self._ticket_senders,
        )
        self.owner_ids = owner_ids(session)
        if account is not None:
            self.facts = AccountFacts(
                id=account.id, name=account.name, trusted=account.trusted, dispatch=account.dispatch,
                queue=account.queue.name if account.queue else None,
            )
        else:
            self.facts = AccountFacts(id=None, name="import", dispatch="queue" if queue else "to", queue=queue)
        self._pending: dict[str, Ticket] = {}  # message-id → ticket not yet flushed
        self._known_ids: dict = {}  # prefetched for the batch: message-id → (article id, ticket) or None
        self._known_numbers: dict = {}  # prefetched for the batch: ticket number → ticket or None

    # -- the fast path: a whole batch, one flush --
    def process_batch(self, items: list[tuple[str | None, bytes]]) -> list[IngestResult]:
        """Process (server_key, raw) pairs; returns one result per pair, in order."""
        hashes = [hashlib.sha256(raw).hexdigest() for _, raw in items]
        seen = self._seen_hashes(set(hashes))
        savepoint = self.session.begin_nested()
        try:
            with self.session.no_autoflush:
                fresh = []
                for index, ((key, raw), sha256) in enumerate(zip(items, hashes)):
                    if self.account is None or sha256 not in seen:
                        seen.add(sha256)
                        fresh.append(index)
                parsed = {index: _parse_or_none(items[index][1]) for index in fresh}
                self._prefetch([message for message in parsed.values() if message is not None])
                results = []
                for index, ((key, raw), sha256) in enumerate(zip(items, hashes)):
                    if index not in parsed:
                        self._remember(key, sha256, None, "duplicate")
                        results.append(IngestResult("duplicate"))
                    else:
                        results.append(self._prepare(raw, sha256, key, parsed[index]))
                assign_ticket_numbers(self.session, self.system_id)
            self.session.flush()
            savepoint.commit()
        except Exception:  # noqa: BLE001 - redo one by one: only the culprit becomes failed mail
            savepoint.rollback()
            log.info("batch of %d messages failed to store; retrying one by one", len(items), exc_info=True)
            self._pending.clear()
            return [self.process(raw, key) for key, raw in items]
        finally:
            self._pending.clear()
            self._known_ids, self._known_numbers = {}, {}
        return [result._resolve() for result in results]

    def _prefetch(self, messages: list[ParsedMessage]) -> None:
        """Answer the follow-up lookups of a whole batch with two queries instead of one per message."""
        ids = {i for m in messages for i in (*m.in_reply_to, *m.references) if i}
        numbers = {n for m in messages for n in ticket_numbers_in(m.subject, self.context.ticket_hook)}
        numbers |= {own.group(1) for i in ids if (own := OWN_MESSAGE_ID.match(i))}
        self._known_ids = dict.fromkeys(ids)
        for chunk in _chunks(sorted(ids), 500):
            query = select(Article.message_id, Article.id, Ticket).join(Ticket).where(Article.message_id.in_(chunk))
            for message_id, article_id, ticket in self.session.execute(query):
                known = self._known_ids.get(message_id)
                if known is None or known[0] < article_id:
                    self._known_ids[message_id] = (article_id, ticket)
        self._known_numbers = dict.fromkeys(numbers)
        for chunk in _chunks(sorted(numbers), 500):
            for ticket in self.session.scalars(select(Ticket).where(Ticket.number.in_(chunk))):
                self._known_numbers[ticket.number] = ticket

    def _prepare(self, raw: bytes, sha256: str, server_key: str | None, message: ParsedMessage | None) -> IngestResult:
        try:
            return self._store(raw, sha256, server_key, message)
        except Exception as exc:  # noqa: BLE001 - a message that cannot be parsed or routed is kept as failed mail
            log.warning("message from account %s failed: %s", self.facts.name, exc, exc_info=True)
            return self._failed(raw, sha256, server_key, f"{type(exc).__name__}: {exc}")

    # -- the careful path: one message, its own savepoint --
    def process(self, raw: bytes, server_key: str | None = None) -> IngestResult:
        sha256 = hashlib.sha256(raw).hexdigest()
        if self.account is not None and self._seen_hashes({sha256}):
            self._remember(server_key, sha256, None, "duplicate")
            return IngestResult("duplicate")
        savepoint = self.session.begin_nested()
        try:
            with self.session.no_autoflush:
                result = self._store(raw, sha256, server_key)
                assign_ticket_numbers(self.session, self.system_id)
            self.session.flush()
            savepoint.commit()
        except Exception as exc:  # noqa: BLE001 - any failure becomes failed mail, never a lost message
            savepoint.rollback()
            self._pending.clear()
            log.warning("message from account %s failed: %s", self.facts.name, exc, exc_info=True)
            result = self._failed(raw, sha256, server_key, f"{type(exc).__name__}: {exc}")
            self.session.flush()
        self._pending.clear()
        return result._resolve()

    def reprocess(self, failed: FailedMessage) -> IngestResult:
        """Run failed mail through the pipeline again; on success it is marked reprocessed."""
        raw = failed.raw.data
        sha256 = hashlib.sha256(raw).hexdigest()
        savepoint = self.session.begin_nested()
        try:
            with self.session.no_autoflush:
                result = self._store(raw, sha256, None)
                assign_ticket_numbers(self.session, self.system_id)
            self.session.flush()
            savepoint.commit()
        except Exception as exc:  # noqa: BLE001 - it stays failed, with the new error
            savepoint.rollback()
            self._pending.clear()
            failed.error = f"{type(exc).__name__}: {exc}"[:10000]
            return IngestResult("failed", failed_id=failed.id, error=failed.error)
        self._pending.clear()
        result._resolve()
        failed.reprocessed_at = utcnow()
        for collected in self.session.scalars(select(CollectedMessage).where(CollectedMessage.failed_id == failed.id)):
            collected.outcome, collected.article_id = result.outcome, result.article_id
        return result

    def route_only(self, raw: bytes):
        """Parse and route without storing anything (``intake route --explain``, the rule preview)."""
        message = parse_message(raw)
        return message, route(message, self.facts, self.context)

    def _store(self, raw: bytes, sha256: str, server_key: str | None,
               message: ParsedMessage | None = None) -> IngestResult:
        message = message or parse_message(raw)
        decision = route(message, self.facts, self.context)
        if decision.outcome is Outcome.IGNORE:
            self._remember(server_key, sha256, message.message_id, Outcome.IGNORE.value)
            return IngestResult(Outcome.IGNORE.value)
        article = store(self.session, decision, message, store_raw(self.session, raw),
                        account_id=self.facts.id, queue_ids=self.queue_ids, owner_ids=self.owner_ids)
        if message.message_id:
            self._pending[message.message_id] = article.ticket
        self._remember(server_key, sha256, message.message_id, decision.outcome.value, article=article)
        return IngestResult(decision.outcome.value, _article=article)

    def _failed(self, raw: bytes, sha256: str, server_key: str | None, error: str) -> IngestResult:
        failed = FailedMessage(account_id=self.facts.id, raw=store_raw(self.session, raw),
                               server_key=server_key, error=error[:10000])
        self.session.add(failed)
        self._remember(server_key, sha256, None, "failed", failed=failed)
        return IngestResult("failed", error=error, _failed=failed)

    # -- dedup keys --
    def _seen_hashes(self, hashes: set[str]) -> set[str]:
        if self.account is None or not hashes:
            return set()
        query = select(CollectedMessage.sha256).where(
            CollectedMessage.account_id == self.account.id, CollectedMessage.sha256.in_(hashes)
        )
        return set(self.session.scalars(query))

    def _remember(self, server_key, sha256, message_id, outcome, article=None, failed=None) -> None:
        if self.account is None or server_key is None:
            return
        self.session.add(CollectedMessage(
            account_id=self.account.id, server_key=server_key, sha256=sha256,
            message_id=(message_id or "")[:998] or None, outcome=outcome,
            article=article, failed=failed,
        ))

    # -- lookups handed to routing (tickets of this batch first: they are not flushed yet) --
    def _ticket_by_number(self, number: str) -> TicketRef | None:
        if number in self._known_numbers:
            return _ref(self._known_numbers[number])
        return _ref(self.session.scalar(select(Ticket).where(Ticket.number == number)))

    def _ticket_by_message_ids(self, ids: list[str]) -> TicketRef | None:
        ids = [i for i in ids if i][:50]
        for message_id in ids:
            if message_id in self._pending:
                return _ref(self._pending[message_id])
        if not ids:
            return None
        if all(i in self._known_ids for i in ids):
            found = [self._known_ids[i] for i in ids if self._known_ids[i] is not None]
            return _ref(max(found, key=lambda pair: pair[0])[1]) if found else None
        query = select(Ticket).join(Article).where(Article.message_id.in_(ids)).order_by(Article.id.desc()).limit(1)
        return _ref(self.session.scalar(query))


    def _ticket_senders(self, ref: TicketRef) -> set[str]:
        ticket: Ticket = ref.handle
        senders = {ticket.customer.lower()} if ticket.customer else set()
        if ticket.id is None:
            return senders | {a.from_address.lower() for a in ticket.articles}
        query = select(Article.from_address).where(Article.ticket_id == ticket.id).distinct()
        return senders | {address.lower() for address in self.session.scalars(query)}


def _parse_or_none(raw: bytes) -> ParsedMessage | None:
    try:
        return parse_message(raw)
    except Exception:  # noqa: BLE001 - parse_message is total; if it ever raises, _store raises again → failed mail
        return None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def load_rules(session: Session) -> list[CompiledRule]:
    """Enabled filter rules in order, compiled (they were validated when saved)."""
    query = select(FilterRule).where(FilterRule.enabled.is_(True)).order_by(FilterRule.position, FilterRule.id)
    return [compile_rule(r.name, r.conditions, r.actions, r.match_all, r.stop) for r in session.scalars(query)]


def follow_up_policy(config) -> FollowUpPolicy:
    return FollowUpPolicy(
        search_body=bool(config["FOLLOWUP_SEARCH_BODY"]),
        subject_needs_known_sender=bool(config["FOLLOWUP_SUBJECT_NEEDS_KNOWN_SENDER"]),
        closed_action=str(config["FOLLOWUP_CLOSED_ACTION"]),
    )


def _ref(ticket: Ticket | None) -> TicketRef | None:
    if ticket is None:
        return None
    queue = ticket.queue.name if ticket.queue is not None else None
    return TicketRef(id=ticket.id, number=ticket.number, queue=queue, state=ticket.state, handle=ticket)
