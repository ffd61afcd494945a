"""Web security, fast (Flask test client): login, roles and queue grants, CSRF, CSP and other headers."""
from __future__ import annotations

import pytest

from intake.extensions import db
from intake.models import AuditEntry, LoginFailure
from tests.conftest import make_message
from tests.fixtures_web import *  # noqa: F403


# --- login, logout, session cookie ---
def test_pages_need_a_login(web, people):
    client = web()
    for url in ("/", "/tickets", "/admin/accounts/", "/admin/users/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_login_sets_a_fresh_httponly_samesite_session_and_logout_ends_it(web, people):
    client = web()
    token = csrf_token(client.client)
    response = client.client.post("/login", data={"email": "ADMIN@example.com", "password": people.admin.password,
                                                  "csrf_token": token})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_session_cookie_is_secure_behind_https(web, people):
    client = web()
    token = csrf_token(client.client)
    response = client.client.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                                  data={"email": people.admin.email, "password": people.admin.password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_is_refused_and_repeated_failures_are_throttled(web, people):
    client = web()
    for _ in range(5):
        response = client.post("/login", data={"email": people.agent.email, "password": "wrong"})
        assert response.status_code == 401
        assert "Wrong e-mail address or password" in response.get_data(as_text=True)
    response = client.post("/login", data={"email": people.agent.email, "password": people.agent.password})
    assert response.status_code == 429  # even the right password waits now
    assert "Too many" in response.get_data(as_text=True)
    assert db.session.query(LoginFailure).count() == 5
    # another address from the same client is not yet blocked
    assert client.post("/login", data={"email": people.admin.email, "password": people.admin.password}).status_code == 302


def test_login_redirects_only_to_local_paths(web, people):
    client = web()
    for target, expected in (("/tickets", "/tickets"), ("//evil.example/x", "/"), ("https://evil.example/", "/")):
        fresh = web()
        response = fresh.post(f"/login?next={target}", data={"email": people.admin.email, "password": people.admin.password})
        assert response.headers["Location"] == expected, target
    assert client  # unused anonymous client stays anonymous


def test_disabled_user_cannot_log_in(web, people, app):
    from intake.models import User

    db.session.get(User, people.agent.id).active = False
    db.session.commit()
    response = web().post("/login", data={"email": people.agent.email, "password": people.agent.password})
    assert response.status_code == 401


# --- CSRF ---
def test_forms_without_a_csrf_token_are_refused_with_a_clean_page(web, people):
    client = web(people.admin)
    response = client.post("/admin/queues", data={"name": "Billing"}, csrf=False)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "security token" in text and "Traceback" not in text
    assert client.post("/admin/queues", data={"name": "Billing"}).status_code == 302  # with the token it works
    anonymous = web()
    assert anonymous.client.post("/login", data={"email": people.admin.email,
                                                 "password": people.admin.password}).status_code == 400


# --- headers ---
def test_every_page_has_a_csp_without_inline_script_and_is_not_frameable(web, people):
    client = web(people.admin)
    for url in ("/", "/tickets", "/admin/", "/admin/accounts/new", "/login", "/no-such-page"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
    body = client.get("/admin/").get_data(as_text=True)
    assert "<script>" not in body and " on" + "click=" not in body and 'style="' not in body


# --- roles and queue grants ---
def test_agents_get_a_403_page_on_every_admin_screen(web, people):
    client = web(people.agent)
    for url in ("/admin/", "/admin/accounts/", "/admin/accounts/new", "/admin/queues", "/admin/addresses",
                "/admin/users/", "/admin/failed/", "/admin/audit/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Not allowed" in response.get_data(as_text=True)
    assert client.post("/admin/queues", data={"name": "Mine"}).status_code == 403


def test_agents_cannot_reach_tickets_of_queues_they_are_not_granted(app, web, people):
    sales = add_ticket(app, "Sales", "Quote for 500 licences", raw=_with_attachment("Quote for 500 licences"))
    support = add_ticket(app, "Support", "Printer on fire")
    article = sales.articles[0]
    attachment = article.attachments[0]
    client = web(people.agent)
    listing = client.get("/tickets?state=").get_data(as_text=True)
    assert support.number in listing and sales.number not in listing
    search = client.get("/tickets?state=&q=licences").get_data(as_text=True)
    assert sales.number not in search
    for url in (f"/tickets/{sales.number}", f"/articles/{article.id}/html", f"/articles/{article.id}/raw",
                f"/attachments/{attachment.id}", f"/attachments/{attachment.id}/inline",
                f"/tickets?queue={people.sales.id}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Not allowed" in response.get_data(as_text=True)
    assert client.post(f"/tickets/{sales.number}", data={"state": "closed"}).status_code == 403
    assert client.post(f"/tickets/{sales.number}/notes", data={"text": "hi"}).status_code == 403
    # nor move a ticket of theirs into a queue they may not see
    assert client.post(f"/tickets/{support.number}", data={"queue": people.sales.id}).status_code == 403
    assert client.get(f"/tickets/{support.number}").status_code == 200
    queues = client.get("/").get_data(as_text=True)
    assert 'data-queue="Support"' in queues and 'data-queue="Sales"' not in queues


def test_unknown_things_are_a_404_page_and_damaged_cursors_a_400(web, people):
    client = web(people.admin)
    for url in ("/tickets/2099010110999999", "/articles/999999/raw", "/attachments/999999", "/admin/accounts/999999"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.get_data(as_text=True)
    response = client.get("/tickets?after=not-a-cursor")
    assert response.status_code == 400 and "damaged" in response.get_data(as_text=True)


def test_audit_log_never_contains_a_secret(app, web, people):
    client = web(people.admin)
    client.post("/admin/users/new", data={"email": "new@example.com", "password": "s3cret-Passw0rd!", "role": "agent",
                                          "active": "on"})
    entries = db.session.query(AuditEntry).all()
    assert entries and all("s3cret-Passw0rd!" not in str(e.changes) for e in entries)
    assert entries[-1].changes["password"] == "changed"
    assert "s3cret-Passw0rd!" not in client.get("/admin/audit/").get_data(as_text=True)


def test_inline_image_tokens_open_their_own_image_only(app, web, people):
    import base64
    import re as regex

    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    from email import message_from_bytes
    from email.policy import default

    message = message_from_bytes(make_message("Logos"), policy=default)
    message.add_alternative('<img src="cid:a@x"><img src="cid:b@x">', subtype="html")
    html_part = message.get_payload()[1]
    html_part.add_related(png, maintype="image", subtype="png", cid="<a@x>")
    html_part.add_related(png, maintype="image", subtype="png", cid="<b@x>")
    ticket = add_ticket(app, "Support", "Logos", raw=bytes(message))
    article_id = ticket.articles[0].id
    frame = web(people.agent).get(f"/articles/{article_id}/html").get_data(as_text=True)
    urls = [u.replace("&amp;", "&") for u in regex.findall(r'src="(/attachments/\d+/inline\?t=[^"]+)"', frame)]
    assert len(urls) == 2
    anonymous = web()  # the sandboxed frame sends no cookie: the token alone opens the image
    assert anonymous.get(urls[0]).status_code == 200 and anonymous.get(urls[0]).mimetype == "image/png"
    other_id = regex.search(r"/attachments/(\d+)/", urls[1]).group(1)
    forged = regex.sub(r"/attachments/\d+/", f"/attachments/{other_id}/", urls[0])
    assert anonymous.get(forged).status_code == 403
    assert anonymous.get(f"/attachments/{other_id}/inline").status_code == 403


def _with_attachment(subject: str) -> bytes:
    from email import message_from_bytes
    from email.policy import default

    message = message_from_bytes(make_message(subject), policy=default)
    message.add_attachment(b"%PDF-1.4 quote", maintype="application", subtype="pdf", filename="quote.pdf")
    return bytes(message)


pytestmark = pytest.mark.filterwarnings("error")
