"""The web UI in headless Chromium (Playwright, Debian's /usr/bin/chromium) against a live test server.

"Fetch now" runs through a real EmbeddedRunner started by the ``live_server`` fixture
(the way ``intake run`` serves the app), collecting from the test Dovecot. Screenshots
of the main screens go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import base64
import re
import threading
from email.message import EmailMessage
from email.utils import make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import Queue, Ticket
from tests.conftest import make_message
from tests.fixtures_web import *  # noqa: F403

pytestmark = pytest.mark.peers
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def browser_login(page, base: str, person) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", person.email)
    page.fill("#password", person.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def assert_clean(page) -> None:
    """No CSP violation, script error or dialog happened on the pages visited."""
    assert page.console_errors == [] and page.page_errors == [] and page.dialogs == []


def test_admin_adds_an_account_tests_it_fetches_and_works_a_ticket(app, live_server, page, people, dovecot, mailbox):
    base, (user, password) = live_server, mailbox
    dovecot.deliver(user, [make_message("Printer on fire", body="The printer in room 4 is on fire."),
                           make_message("Invoice question", body="Why was I charged twice?"),
                           make_message("VPN broken", body="Cannot connect since Monday.")])
    page.goto(f"{base}/login")
    shot(page, "01-login")
    browser_login(page, base, people.admin)

    page.click("text=Mail accounts")
    page.click("text=Add mail account")
    page.fill("#name", "Support inbox")
    page.select_option("#protocol", "imaps")
    assert page.input_value("#port") == "993"  # the default port follows the protocol
    assert page.is_visible("#folder") and page.is_visible("#ca_file")
    page.select_option("#protocol", "pop3")
    assert page.input_value("#port") == "110" and not page.is_visible("#folder") and not page.is_visible("#ca_file")
    page.select_option("#auth_method", "oauth2")
    assert not page.is_visible("#password")
    page.select_option("#auth_method", "password")
    page.select_option("#protocol", "imap")
    page.fill("#port", str(dovecot.imap_port))
    page.fill("#host", dovecot.host)
    page.fill("#username", user)
    page.fill("#password", password)
    page.select_option("#dispatch", "queue")
    page.select_option("#queue", "Support")
    shot(page, "02-account-form")
    page.click("button:has-text('Add account')")
    page.wait_for_selector("text=Mail account Support inbox added")

    page.click("#test-button")
    page.wait_for_selector("#test-card[data-ok='1']")
    transcript = page.inner_text("#transcript")
    assert "LOGIN" in transcript and "<redacted>" in transcript and password not in transcript
    assert "OK: 3 messages" in page.inner_text("#test-card")
    shot(page, "03-account-test")

    page.click("text=Browse mailbox")  # what is on the server, not collected
    assert page.locator("#browse >> text=not yet collected").count() == 3
    assert page.is_visible("#browse >> text=Invoice question")
    shot(page, "05-browse-mailbox")
    page.click("text=Support inbox")

    page.click("#fetch-button")
    page.wait_for_selector("#progress[data-status='ok']", timeout=30_000)
    assert page.inner_text("#count-stored") == "3"
    page.wait_for_selector("#recent-runs .badge.ok")  # the finished run refreshed the rest of the page
    assert "3 messages" in page.inner_text("#account-facts")
    shot(page, "04-account-fetched")


    page.click("nav >> text=Mail accounts")
    page.fill("#account-filter", "no such account")
    assert page.is_visible("text=No account matches the filter.")
    page.fill("#account-filter", "support")
    assert page.is_visible("#accounts >> text=Support inbox")
    shot(page, "06-accounts")

    page.click("nav >> text=Queues >> nth=0")
    assert page.inner_text("[data-queue='Support'] .count-new") == "3"
    shot(page, "07-queues")

    page.click("nav >> text=Tickets")
    for subject in ("Printer on fire", "Invoice question", "VPN broken"):
        assert page.is_visible(f"#tickets >> text={subject}")
    page.fill("#q", "fire")
    page.click("button:has-text('Apply')")
    page.wait_for_selector("#tickets")
    assert page.locator("#tickets tbody tr").count() == 1
    shot(page, "08-tickets-search")
    page.click("#tickets >> text=Printer on fire")
    page.wait_for_selector("#ticket-title")
    assert "The printer in room 4 is on fire." in page.inner_text(".article")
    page.select_option("#ticket-properties #state", "open")
    page.select_option("#ticket-properties #priority", "5")
    page.select_option("#ticket-properties #owner", str(people.admin.id))
    page.click("text=Save changes")
    page.wait_for_selector("text=Saved: state, priority, owner.")
    page.fill("#note-text", "Fire brigade called.")
    page.click("text=Add note")
    page.wait_for_selector("text=Note added.")
    shot(page, "09-ticket")
    db.session.expire_all()
    ticket = db.session.scalar(select(Ticket).where(Ticket.title == "Printer on fire"))
    assert (ticket.state, ticket.priority, ticket.owner_id) == ("open", 5, people.admin.id)
    db.session.commit()

    page.click("nav >> text=Dashboard")
    page.wait_for_selector("body[data-charts-ready]")  # both charts drawn
    shot(page, "10-dashboard")
    page.click("nav >> text=Filter rules")
    page.click("text=Add rule")
    page.fill("#name", "Invoices to Sales")
    page.fill("#field_0", "subject")
    page.fill("#pattern_0", "(?i)invoice")
    page.select_option("#queue", "Sales")
    page.click("text=Save rule")
    page.wait_for_selector("#rules >> text=Invoices to Sales")
    shot(page, "17-rules")
    page.click("text=Routing preview")
    page.fill("#raw", make_message("Invoice 117 is overdue").decode())
    page.click("text=Preview routing")
    assert "new ticket in queue Sales" in page.inner_text("#decision-head")
    assert "Invoices to Sales" in page.inner_text("#decision-steps")
    shot(page, "18-routing-preview")
    for name, link in (("11-users", "Users"), ("12-audit-log", "Audit log"), ("13-failed-mail", "Failed mail"),
                       ("14-system-addresses", "System addresses")):
        page.click(f"nav >> text={link}")
        shot(page, name)
    assert_clean(page)


XSS_HTML = """<p>Hello<script>alert('xss-1');console.log('XSS-RAN')</script></p>
<img src=x onerror="alert('xss-2')"><svg onload="alert('xss-3')"><script>alert('xss-4')</script></svg>
<a href="javascript:alert('xss-5')">click me</a><a href="  jAvAsCrIpT:alert('xss-5b')">and me</a>
<div style="background:url(javascript:alert('xss-6'));width:expression(alert('xss-7'))">css</div>
<iframe src="javascript:alert('xss-8')"></iframe><object data="javascript:alert('xss-9')"></object>
<embed src="javascript:alert('xss-9b')"><scr<script>ipt>alert('xss-10')</script>
<img \"\"\"><script>alert('xss-11')</script>"><<img src=x onerror=alert('xss-12')//>
<body onload="alert('xss-13')"><meta http-equiv="refresh" content="0;url=javascript:alert('xss-14')">
<form action="javascript:alert('xss-15')"><button>go</button></form>
<math><mtext><table><mglyph><style><img src=x onerror="alert('xss-16')"></style></mglyph></table></mtext></math>
<base href="javascript:alert('xss-17')//"><details open ontoggle="alert('xss-18')">details</details>
<noscript><p title="</noscript><img src=x onerror=alert('xss-19')>"></noscript>
<a href="data:text/html,<script>alert('xss-20')</script>">data link</a><isindex action="javascript:alert(21)">
<style>@import 'javascript:alert(22)'; body { behavior: url(x.htc) }</style>
<p style="color:red">The visible text stays.</p>"""


def _xss_message() -> bytes:
    message = EmailMessage()
    message["From"] = '"<img src=x onerror=alert(\'xss-from\')>" <evil@example.org>'
    message["To"] = "support@example.com"
    message["Subject"] = "<script>alert('xss-subject')</script> invoice"
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content("<script>alert('xss-text')</script> plain part")
    message.add_alternative(XSS_HTML, subtype="html")
    message.add_attachment(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", maintype="image",
                           subtype="svg+xml", filename="<script>alert(1)</script>.svg")
    return bytes(message)


def test_mail_carrying_xss_payloads_runs_no_script(app, live_server, page, people):
    ticket = add_ticket_ref(app, "Support", "xss", raw=_xss_message())
    page.add_init_script("window.__xss = false")
    browser_login(page, live_server, people.agent)
    page.goto(f"{live_server}/tickets/{ticket.number}")
    frame_element = page.wait_for_selector("iframe")
    assert frame_element.get_attribute("sandbox") == "allow-popups allow-popups-to-escape-sandbox"
    frame = frame_element.content_frame()
    frame.wait_for_load_state()
    assert "The visible text stays." in frame.content() and "click me" in frame.content()
    page.click("text=Show plain text")
    assert "<script>alert('xss-text')</script> plain part" in page.inner_text(".mailtext")
    page.goto(f"{live_server}/tickets?state=")  # the subject and sender in the list, escaped
    assert page.is_visible("text=<script>alert('xss-subject')</script> invoice")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is False
    assert page.dialogs == [] and not any("XSS-RAN" in m for m in page.console_errors) and page.page_errors == []


def test_remote_images_wait_for_the_reader_and_cid_images_show(app, live_server, page, people):
    hits = []

    class Tracker(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):
            pass
    tracker = ThreadingHTTPServer(("127.0.0.1", 0), Tracker)
    threading.Thread(target=tracker.serve_forever, daemon=True).start()
    try:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "news@example.org", "support@example.com", "Newsletter"
        message.set_content("plain")
        message.add_alternative(f'<p>Logo: <img src="cid:logo@example.org" alt="logo"> and tracker: '
                                f'<img src="http://127.0.0.1:{tracker.server_port}/pixel.png" alt="pixel"></p>', subtype="html")
        message.get_payload()[1].add_related(PNG, maintype="image", subtype="png", cid="<logo@example.org>",
                                             filename="logo.png")
        ticket = add_ticket_ref(app, "Support", "Newsletter", raw=bytes(message))
        browser_login(page, live_server, people.agent)
        with page.expect_response(re.compile(r"/attachments/\d+/inline\?t=")) as inline:
            page.goto(f"{live_server}/tickets/{ticket.number}")
        assert inline.value.status == 200 and inline.value.headers["content-type"] == "image/png"
        page.wait_for_timeout(500)
        assert hits == [] and page.is_visible("text=1 remote image blocked")
        page.frame_locator("iframe").locator("text=tracker").wait_for()
        shot(page, "15-ticket-html-remote-blocked")
        page.click("text=Load remote images")
        for _ in range(50):
            if hits:
                break
            page.wait_for_timeout(100)
        assert hits == ["/pixel.png"]
    finally:
        tracker.shutdown()
        tracker.server_close()


def test_agent_cannot_open_other_queues_by_ui_or_by_guessing_urls(app, live_server, page, people):
    support = add_ticket_ref(app, "Support", "Mine to see")
    sales = add_ticket_ref(app, "Sales", "Not for agents", raw=make_message("Not for agents"))
    article_id = sales.article_ids[0]
    browser_login(page, live_server, people.agent)
    assert page.is_visible("[data-queue='Support']") and not page.is_visible("[data-queue='Sales']")
    page.goto(f"{live_server}/tickets?state=")
    assert page.is_visible(f"text={support.title}") and not page.is_visible(f"text={sales.title}")
    assert [o for o in page.locator("#queue option").all_inner_texts()] == ["All my queues", "Support"]
    for url in (f"/tickets/{sales.number}", f"/articles/{article_id}/raw", f"/articles/{article_id}/html",
                f"/tickets?queue={people.sales.id}", "/admin/accounts/"):
        response = page.goto(live_server + url)
        assert response.status == 403, url
        assert page.is_visible("h1:has-text('Not allowed')")
    shot(page, "16-forbidden")
    page.goto(f"{live_server}/tickets/2099010110000001")
    assert page.is_visible("h1:has-text('Not found')")


def test_forms_without_a_csrf_token_are_refused(app, live_server, page, people):
    browser_login(page, live_server, people.admin)
    page.goto(f"{live_server}/admin/queues")
    page.fill("#new-queue", "Sneaky")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.click("button:has-text('Add queue')")
    page.wait_for_selector("text=security token is missing or expired")
    assert db.session.scalar(select(Queue).where(Queue.name == "Sneaky")) is None
    db.session.commit()
