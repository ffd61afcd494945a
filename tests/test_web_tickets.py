"""Support staff in the web UI (Flask test client): queue overview, list filters, search, sort, keyset pages,
the ticket view, changes, notes, and safe downloads."""
from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

from intake.extensions import db
from intake.models import Article, Ticket
from tests.conftest import make_message
from tests.fixtures_web import *  # noqa: F403

NUMBERS = re.compile(r'data-number="(\d+)"')


def numbers(response) -> list[str]:
    return NUMBERS.findall(response.get_data(as_text=True))


def test_queue_overview_counts_new_and_open_tickets_per_queue(app, web, people):
    for i in range(3):
        add_ticket(app, "Support", f"Support question {i}")
    opened = add_ticket(app, "Support", "Already opened")
    opened.state = "open"
    add_ticket(app, "Sales", "A quote")
    db.session.commit()
    page = web(people.admin).get("/").get_data(as_text=True)
    support = page[page.index('data-queue="Support"'):]
    assert re.search(r'class="count-new">3<', support) and re.search(r'class="count-open">1<', support)
    sales = page[page.index('data-queue="Sales"'):]
    assert re.search(r'class="count-new">1<', sales)


def test_list_filters_by_queue_state_and_priority(app, web, people):
    a = add_ticket(app, "Support", "Alpha")
    b = add_ticket(app, "Support", "Bravo")
    c = add_ticket(app, "Sales", "Charlie")
    b.state, b.priority = "closed", 5
    c.priority = 5
    db.session.commit()
    client = web(people.admin)
    assert set(numbers(client.get("/tickets"))) == {a.number, c.number}  # default: not closed
    assert set(numbers(client.get("/tickets?state="))) == {a.number, b.number, c.number}
    assert numbers(client.get(f"/tickets?state=&queue={people.support.id}&priority=5")) == [b.number]
    assert numbers(client.get("/tickets?state=closed")) == [b.number]


def test_search_finds_subject_sender_body_and_number(app, web, people):
    printer = add_ticket(app, "Support", "Printer jammed", body="The HP LaserJet in room 4 eats paper.",
                         sender="Grace Hopper <grace@navy.example>")
    other = add_ticket(app, "Support", "Password reset", body="Please reset my password.")
    client = web(people.admin)

    def found(query):
        return set(numbers(client.get("/tickets", query_string={"q": query, "state": ""})))
    assert found("jammed") == {printer.number}  # subject
    assert found("laserjet paper") == {printer.number}  # body, every word
    assert found("grace") == {printer.number}  # sender name
    assert found("navy") == {printer.number}  # part of the sender address
    assert found("laserj*") == {printer.number}  # a prefix, when asked for
    assert found("laserj") == set()
    assert found("password") == {other.number}
    assert found(other.number) == {other.number}  # a ticket number
    assert found("nothing-like-this") == set()


def test_search_sees_follow_ups_and_notes(app, web, people):
    ticket = add_ticket(app, "Support", "Network down")
    client = web(people.admin)
    client.post(f"/tickets/{ticket.number}/notes", data={"text": "Switch in rack B12 replaced"})
    assert numbers(client.get("/tickets?state=&q=rack+b12")) == [ticket.number]


def test_keyset_pages_show_every_ticket_once_in_every_sort_order(app, web, people):
    from tests.fixtures_web import add_ticket as add

    for i in range(7):
        add(app, "Support", f"Ticket {i}")
    tickets = db.session.query(Ticket).all()
    for i, ticket in enumerate(tickets):
        ticket.priority = 1 + i % 5
    db.session.commit()
    import intake.web.tickets as ticket_views

    client = web(people.admin)
    old = ticket_views.PAGE_SIZE
    ticket_views.PAGE_SIZE = 3
    try:
        for sort in ticket_views.SORTS:
            seen, url = [], f"/tickets?state=&sort={sort}"
            while url:
                response = client.get(url)
                seen += numbers(response)
                match = re.search(r'rel="next" href="([^"]+)"', response.get_data(as_text=True))
                url = match.group(1).replace("&amp;", "&") if match else None
            assert sorted(seen) == sorted(t.number for t in tickets), sort
            assert len(seen) == len(set(seen))
    finally:
        ticket_views.PAGE_SIZE = old


def test_ticket_view_shows_every_article_in_order_with_sender_recipients_and_flags(app, web, people):
    ticket = add_ticket(app, "Support", "VPN fails", body="Since Monday the VPN drops.")
    follow_up = make_message(f"Re: [Ticket#{ticket.number}] VPN fails", body="Still broken today.",
                             sender="Customer <customer@example.org>")
    add_ticket(app, "Support", "ignored", raw=follow_up)
    page = web(people.agent).get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert page.index("Since Monday the VPN drops.") < page.index("Still broken today.")
    assert "customer@example.org" in page and "support@example.com" in page
    assert "the subject names ticket" in page  # the routing step recorded in Article.flags
    assert "Reply" in page  # the place for replies (outbound SMTP comes later)


def test_agent_changes_state_priority_owner_and_queue(app, web, people):
    ticket = add_ticket(app, "Support", "Laptop broken")
    client = web(people.admin)
    response = client.post(f"/tickets/{ticket.number}", data={
        "state": "open", "priority": "4", "queue": str(people.sales.id), "owner": str(people.admin.id)})
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Ticket, ticket.id)
    assert (changed.state, changed.priority, changed.queue_id, changed.owner_id) == ("open", 4, people.sales.id, people.admin.id)
    assert client.post(f"/tickets/{ticket.number}", data={"state": "bogus"}).status_code == 400
    # an owner must be able to see the queue: the agent is not granted Sales
    assert client.post(f"/tickets/{ticket.number}", data={"owner": str(people.agent.id)}).status_code == 400


def test_internal_note_is_an_article_of_kind_note(app, web, people):
    ticket = add_ticket(app, "Support", "Mouse")
    client = web(people.agent)
    assert client.post(f"/tickets/{ticket.number}/notes", data={"text": "Called the customer."}).status_code == 302
    note = db.session.query(Article).filter_by(ticket_id=ticket.id, kind="note").one()
    assert note.body_text == "Called the customer." and note.from_address == people.agent.email
    assert "Internal note by" in client.get(f"/tickets/{ticket.number}").get_data(as_text=True)


def test_attachments_and_raw_source_download_with_safe_headers(app, web, people):
    message = message_from_bytes(make_message("Evil attachment"), policy=default)
    message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename='x"; evil.html')
    ticket = add_ticket(app, "Support", "Evil attachment", raw=bytes(message))
    article = ticket.articles[0]
    client = web(people.agent)
    response = client.get(f"/attachments/{article.attachments[0].id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="x__ evil.html"' in response.headers["Content-Disposition"]  # no quote or ; gets through
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get(f"/attachments/{article.attachments[0].id}/inline").status_code == 404  # HTML is never inline
    raw = client.get(f"/articles/{article.id}/raw")
    assert raw.headers["Content-Disposition"].startswith("attachment;") and ".eml" in raw.headers["Content-Disposition"]
    assert raw.data == bytes(message)


def test_article_html_is_served_sanitized_with_its_own_strict_csp(app, web, people):
    html = ('<p>Hi<script>alert(1)</script><img src="https://tracker.example/p.png" alt="t">'
            '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a></p>')
    message = message_from_bytes(make_message("HTML"), policy=default)
    message.add_alternative(html, subtype="html")
    ticket = add_ticket(app, "Support", "HTML", raw=bytes(message))
    article_id = ticket.articles[0].id
    client = web(people.agent)
    response = client.get(f"/articles/{article_id}/html")
    body = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    assert "<script" not in body and "alert(1)" not in body
    assert "onerror" not in body and "javascript:" not in body
    assert 'data-blocked-src="https://tracker.example/p.png"' in body
    assert "default-src 'none'" in csp and "sandbox" in csp and "https:" not in csp
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    remote = client.get(f"/articles/{article_id}/html?remote=1")
    assert 'src="https://tracker.example/p.png"' in remote.get_data(as_text=True)
    assert "https:" in remote.headers["Content-Security-Policy"]
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page and "1 remote image blocked" in page


def test_search_of_a_word_in_most_tickets_probes_per_ticket_and_still_pages(app, web, people, monkeypatch):
    """SQLite takes another plan for very common words (intake.search.DENSE_MATCHES); the result is the same."""
    from intake import search

    tickets = [add_ticket(app, "Support", f"Common {i}", body="everywhere") for i in range(4)]
    client = web(people.admin)
    expected = {t.number for t in tickets}
    assert set(numbers(client.get("/tickets?state=&q=everywhere"))) == expected
    monkeypatch.setattr(search, "DENSE_MATCHES", 2)
    assert set(numbers(client.get("/tickets?state=&q=everywhere"))) == expected
    assert set(numbers(client.get("/tickets?state=&q=everywhere+common"))) == expected
