"""Test peer: oauth2-mock-server 8.2.3 (npm) on 127.0.0.1, wrapped by tests/peers/oauth_mock/server.js.

The wrapper makes the mock behave like a real authorization server where the tests
need it (users in tokens, PKCE-bound single-use codes, client authentication,
rotating and revocable refresh tokens, configurable lifetimes, real introspection for
Dovecot, Microsoft-style tenant paths); see the header of server.js. Node and the
package come from the npm registry: ``npm ci`` in tests/peers/oauth_mock (scripts/test
runs it when node_modules is missing).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import requests

from .ports import AuthorizationServerProcess

__all__ = ["OAuthMockServer", "MOCK_DIR"]

MOCK_DIR = Path(__file__).resolve().parent / "oauth_mock"
CONTROL_TIMEOUT_SECONDS = 10


class OAuthMockServer(AuthorizationServerProcess):
    kind = "oauthmock"

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def start(self, timeout: float = 20.0) -> "OAuthMockServer":
        if self.alive():
            return self
        node = shutil.which("node")
        if node is None or not (MOCK_DIR / "node_modules" / "oauth2-mock-server").is_dir():
            raise RuntimeError(f"the OAuth2 mock server needs Node.js and `npm ci` in {MOCK_DIR} "
                               "(scripts/test installs both)")
        env = dict(os.environ, PORT=str(self.port), CLIENTS=json.dumps(self.clients))
        self._spawn([node, "server.js"], cwd=MOCK_DIR, env=env)
        self._wait_port(self.host, self.port, timeout)
        return self

    # -- test controls (see server.js) --
    def control(self, route: str, **body) -> dict:
        method = requests.post if body or route not in ("stats", "tokens") else requests.get
        kwargs = {"json": body} if method is requests.post else {}
        response = method(f"{self.url}/_control/{route}", timeout=CONTROL_TIMEOUT_SECONDS, **kwargs)
        response.raise_for_status()
        return response.json()

    def settings(self, **values) -> dict:
        """accessTtl (s), refreshTokenTtl (s, reported as refresh_token_expires_in), tokenDelayMs."""
        return self.control("settings", **values)

    def stats(self) -> dict:
        return self.control("stats")

    def issued_tokens(self) -> list[str]:
        tokens = self.control("tokens")
        return tokens["access"] + tokens["refresh"]

    def app_access(self, client_id: str, mailbox: str) -> None:
        """Client credentials of ``client_id`` act for ``mailbox`` (an admin-granted app permission)."""
        self.control("app-access", client_id=client_id, email=mailbox)

    def revoke(self, email: str) -> int:
        """The user withdraws consent: every access and refresh token of ``email`` is dead."""
        return self.control("revoke", email=email)["revoked"]

    def revoke_access(self, email: str) -> int:
        """Only the access tokens die (the mail server refuses them; a refresh still works)."""
        return self.control("revoke-access", email=email)["revoked"]
