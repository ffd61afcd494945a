"""Test peer: a small OAuth2 authorization server for the device authorization grant (RFC 8628).

oauth2-mock-server has no device grant, so this one is built on authlib's server
components: its Flask ``AuthorizationServer``, ``DeviceAuthorizationEndpoint``,
``DeviceCodeGrant`` and ``RefreshTokenGrant`` (rotating refresh tokens). Around them,
in memory: the registered clients, a verification page where the user approves a
user code as an e-mail address, token introspection for Dovecot (form POST, no client
authentication, ``active: false`` for revoked/expired/unknown tokens), and
``/_control/*`` routes for the tests. Endpoints are served both at plain paths and at
the Microsoft identity platform's (``/{tenant}/oauth2/v2.0/devicecode|token``).

Run as ``python -m tests.peers.device_server --port N --clients '{"id": "secret"}'``;
:class:`DeviceServer` does that as a managed child process.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time

import requests

from .ports import AuthorizationServerProcess

USER_CODE_INTERVAL_SECONDS = 1  # tests poll fast; real providers say 5


class DeviceServer(AuthorizationServerProcess):
    kind = "devicesrv"

    def start(self, timeout: float = 15.0) -> "DeviceServer":
        if self.alive():
            return self
        env = dict(os.environ, AUTHLIB_INSECURE_TRANSPORT="1", PYTHONWARNINGS="ignore")
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self._spawn([sys.executable, "-m", "tests.peers.device_server", "--port", str(self.port),
                     "--clients", json.dumps(self.clients)], cwd=root, env=env)
        self._wait_port(self.host, self.port, timeout)
        return self

    def control(self, route: str, **body) -> dict:
        response = requests.post(f"{self.url}/_control/{route}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        return self.control("stats")

    def issued_tokens(self) -> list[str]:
        tokens = self.control("tokens")
        return tokens["access"] + tokens["refresh"]

    def settings(self, **values) -> dict:
        """access_ttl: lifetime of new access tokens in seconds."""
        return self.control("settings", **values)

    def revoke(self, email: str) -> int:
        return self.control("revoke", email=email)["revoked"]

    def revoke_access(self, email: str) -> int:
        return self.control("revoke-access", email=email)["revoked"]

    def approve(self, verification_uri: str, user_code: str, email: str) -> None:
        """What the user does in a browser: enter the user code and sign in as ``email``."""
        response = requests.post(verification_uri, data={"user_code": user_code, "email": email}, timeout=10)
        response.raise_for_status()


# --- the server (runs in the child process) ---
def create_app(clients: dict[str, str | None]):
    from authlib.integrations.flask_oauth2 import AuthorizationServer
    from authlib.oauth2.rfc6749 import ClientMixin, grants
    from authlib.oauth2.rfc6750 import BearerTokenGenerator
    from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint, DeviceCodeGrant, DeviceCredentialDict
    from flask import Flask, jsonify, request

    app = Flask(__name__)
    settings = {"access_ttl": 3600}
    devices: dict[str, DeviceCredentialDict] = {}  # device_code -> credential
    user_grants: dict[str, tuple[str, bool]] = {}  # user_code -> (email, approved)
    tokens: dict[str, dict] = {}  # access or refresh token -> record
    stats = {"grants": {}, "refreshes": {}, "tenants": [], "introspections": 0}

    class Client(ClientMixin):
        def __init__(self, client_id):
            self.client_id, self.secret = client_id, clients[client_id]

        def get_client_id(self):
            return self.client_id

        def get_allowed_scope(self, scope):
            return scope

        def check_client_secret(self, client_secret):
            return self.secret is not None and secrets.compare_digest(self.secret, client_secret)

        def check_endpoint_auth_method(self, method, endpoint):
            return method == "none" if self.secret is None else method in ("client_secret_basic", "client_secret_post")

        def check_grant_type(self, grant_type):
            return grant_type in (DeviceCodeGrant.GRANT_TYPE, "refresh_token")

    class RefreshToken:
        def __init__(self, value, record):
            self.value, self.record = value, record

        def check_client(self, client):
            return client.get_client_id() == self.record["client_id"]

        def get_scope(self):
            return self.record["scope"]

    class DeviceEndpoint(DeviceAuthorizationEndpoint):
        INTERVAL = USER_CODE_INTERVAL_SECONDS

        def get_verification_uri(self):
            return request.host_url.rstrip("/") + "/device"

        def save_device_credential(self, client_id, scope, data):
            devices[data["device_code"]] = DeviceCredentialDict(
                client_id=client_id, scope=scope, expires_at=int(time.time()) + data["expires_in"], **data)

    class DeviceGrant(DeviceCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        def query_device_credential(self, device_code):
            return devices.get(device_code)

        def query_user_grant(self, user_code):
            return user_grants.get(user_code)

        def should_slow_down(self, credential):
            return False

    class RefreshGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
        INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: the old one dies

        def authenticate_refresh_token(self, refresh_token):
            record = tokens.get(refresh_token)
            if record and record["kind"] == "refresh" and not record["revoked"]:
                return RefreshToken(refresh_token, record)
            return None

        def authenticate_user(self, refresh_token):
            stats["refreshes"][refresh_token.record["email"]] = stats["refreshes"].get(refresh_token.record["email"], 0) + 1
            return refresh_token.record["email"]

        def revoke_old_credential(self, refresh_token):
            refresh_token.record["revoked"] = True

    def save_token(token, oauth_request):
        email = oauth_request.user
        client_id = oauth_request.client.get_client_id()
        stats["grants"][oauth_request.payload.grant_type] = stats["grants"].get(oauth_request.payload.grant_type, 0) + 1
        tokens[token["access_token"]] = {"kind": "access", "email": email, "client_id": client_id,
                                         "exp": time.time() + token["expires_in"], "revoked": False}
        if token.get("refresh_token"):
            tokens[token["refresh_token"]] = {"kind": "refresh", "email": email, "client_id": client_id,
                                              "scope": token.get("scope", ""), "revoked": False}

    server = AuthorizationServer(app, query_client=lambda cid: Client(cid) if cid in clients else None,
                                 save_token=save_token)
    server.register_token_generator("default", BearerTokenGenerator(
        lambda **_: secrets.token_urlsafe(32), lambda **_: secrets.token_urlsafe(32),
        expires_generator=lambda client, grant_type: settings["access_ttl"]))
    server.register_grant(DeviceGrant)
    server.register_grant(RefreshGrant)
    server.register_endpoint(DeviceEndpoint)

    def tenant(name):
        if name:
            stats["tenants"].append(name)

    @app.post("/device_authorization")
    @app.post("/<name>/oauth2/v2.0/devicecode")
    def device_authorization(name=None):
        tenant(name)
        return server.create_endpoint_response("device_authorization")

    @app.post("/token")
    @app.post("/<name>/oauth2/v2.0/token")
    def token(name=None):
        tenant(name)
        return server.create_token_response()

    @app.route("/device", methods=["GET", "POST"])
    def verify():
        if request.method == "GET":
            code = request.args.get("user_code", "")
            return (f'<form method="post"><input name="user_code" value="{code}"><input name="email" type="email">'
                    '<button>Allow</button></form>')
        user_code = request.form["user_code"].strip().upper()
        if user_code not in {d["user_code"] for d in devices.values()}:
            return "unknown code", 400
        user_grants[user_code] = (request.form["email"], request.form.get("deny") is None)
        return "You can close this window."

    @app.post("/introspect")
    def introspect():
        stats["introspections"] += 1
        record = tokens.get(request.form.get("token") or (request.get_json(silent=True) or {}).get("token", ""))
        if not record or record["kind"] != "access" or record["revoked"] or record["exp"] <= time.time():
            return jsonify(active=False)
        return jsonify(active=True, email=record["email"], sub=record["email"], client_id=record["client_id"],
                       exp=int(record["exp"]), token_type="Bearer")

    @app.post("/_control/<route>")
    def control(route):
        body = request.get_json(silent=True) or {}
        if route == "settings":
            settings.update(body)
            return jsonify(settings)
        if route == "stats":
            return jsonify(stats)
        if route == "tokens":
            return jsonify(access=[t for t, r in tokens.items() if r["kind"] == "access"],
                           refresh=[t for t, r in tokens.items() if r["kind"] == "refresh"])
        if route in ("revoke", "revoke-access"):
            kinds = ("access",) if route == "revoke-access" else ("access", "refresh")
            hits = [r for r in tokens.values() if r["email"] == body["email"] and r["kind"] in kinds]
            for record in hits:
                record["revoked"] = True
            return jsonify(revoked=len(hits))
        return jsonify(error="no such control route"), 404

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", default="{}")
    args = parser.parse_args()
    from werkzeug.serving import make_server

    make_server("127.0.0.1", args.port, create_app(json.loads(args.clients)), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
