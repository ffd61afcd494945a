"""Google (Gmail, Google Workspace) as an OAuth2 provider.

Gmail's IMAP/POP3/SMTP scope is ``https://mail.google.com/``. Google gives a refresh
token only when asked for offline access, and again only with a fresh consent.
Google offers Gmail scopes neither to the device grant (its limited-input flow
allows a short list of scopes without Gmail) nor to client credentials (Workspace
uses service accounts with domain-wide delegation instead), so this plugin
offers the authorization-code grant only.
"""
from __future__ import annotations

from intake.oauth.providers import AUTHORIZATION_CODE, Endpoints, OAuthProvider

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
DEVICE_URL = "https://oauth2.googleapis.com/device/code"
MAIL_SCOPE = "https://mail.google.com/"


class Google(OAuthProvider):
    name = "google"
    label = "Google"
    grants = (AUTHORIZATION_CODE,)
    token_auth_method = "client_secret_post"

    def default_endpoints(self) -> Endpoints:
        return Endpoints(authorize=AUTHORIZE_URL, token=TOKEN_URL, device=DEVICE_URL)

    def default_scopes(self, use: str, grant: str) -> list[str]:
        return [MAIL_SCOPE, "openid", "email"]

    def authorization_params(self) -> dict[str, str]:
        return {"access_type": "offline", "prompt": "consent"}
