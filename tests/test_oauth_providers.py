"""OAuth2 providers are plugins; administrators register provider configurations on the console,
with the client secret encrypted at rest and the redirect URI to register shown."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from intake.extensions import db
from intake.oauth.errors import ProviderConfigError
from intake.oauth.providers import (AUTHORIZATION_CODE, CLIENT_CREDENTIALS, DEVICE_CODE, OAuthProvider,
                                    ProviderSettings, available_providers, make_provider)
from tests.fixtures_oauth import *  # noqa: F403
from tests.fixtures_oauth import CLIENT_SECRET, add_oauth_account, add_provider


def provider(kind: str, **settings) -> OAuthProvider:
    return make_provider(ProviderSettings(name="p", kind=kind, client_id="cid", **settings))


# --- the plugins ---
def test_three_provider_plugins_are_registered_through_entry_points():
    plugins = available_providers()
    assert {"microsoft", "google", "generic"} <= set(plugins)
    assert all(issubclass(cls, OAuthProvider) and cls.name == name for name, cls in plugins.items())
    assert plugins["microsoft"].__module__ == "intake_plugins.oauth_microsoft"


def test_microsoft_endpoints_are_tenant_aware_and_the_authority_is_overridable():
    endpoints = provider("microsoft", tenant="contoso.onmicrosoft.com").endpoints()
    assert endpoints.token == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    assert endpoints.device == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
    assert provider("microsoft").endpoints().authorize == \
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    us_gov = provider("microsoft", tenant="t1", authority="https://login.microsoftonline.us/").endpoints()
    assert us_gov.token == "https://login.microsoftonline.us/t1/oauth2/v2.0/token"
    explicit = provider("microsoft", tenant="t1", token_url="http://127.0.0.1:9/token").endpoints()
    assert explicit.token == "http://127.0.0.1:9/token" and explicit.authorize.endswith("/t1/oauth2/v2.0/authorize")


def test_default_scopes_per_use_and_grant():
    microsoft = provider("microsoft", tenant="t1")
    assert microsoft.scopes("imap", AUTHORIZATION_CODE)[:2] == [
        "https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"]
    assert microsoft.scopes("pop3", DEVICE_CODE)[0] == "https://outlook.office.com/POP.AccessAsUser.All"
    assert microsoft.scopes("smtp", AUTHORIZATION_CODE)[0] == "https://outlook.office.com/SMTP.Send"
    assert microsoft.scopes("imap", CLIENT_CREDENTIALS) == ["https://outlook.office365.com/.default"]
    google = provider("google")
    assert google.scopes("imap", AUTHORIZATION_CODE)[0] == "https://mail.google.com/"
    assert google.authorization_params() == {"access_type": "offline", "prompt": "consent"}
    assert provider("generic", token_url="http://x/t", scopes=("a", "b")).scopes("pop3", DEVICE_CODE) == ["a", "b"]


def test_grants_a_provider_cannot_do_are_refused_with_what_to_do():
    with pytest.raises(ProviderConfigError, match="needs the directory's tenant ID"):
        provider("microsoft").check_grant(CLIENT_CREDENTIALS)
    provider("microsoft", tenant="contoso.com").check_grant(CLIENT_CREDENTIALS)
    with pytest.raises(ProviderConfigError, match="Google does not offer the device_code grant"):
        provider("google").check_grant(DEVICE_CODE)


def test_generic_provider_reads_its_endpoints_from_the_discovery_document(oauth_mock):
    generic = provider("generic", discovery_url=oauth_mock.discovery_url, scopes=("mail",))
    assert generic.endpoints().token == f"{oauth_mock.url}/token"
    assert generic.endpoints().authorize == f"{oauth_mock.url}/authorize"
    with pytest.raises(ProviderConfigError, match="needs a --discovery-url, or explicit endpoints"):
        provider("generic", scopes=("mail",)).validate()
    with pytest.raises(ProviderConfigError, match="needs --scopes"):
        provider("generic", token_url="http://127.0.0.1:9/token").validate()


# --- provider configurations on the console ---
def test_provider_configuration_round_trip_with_the_secret_encrypted_at_rest(cli, app):
    app.config["PUBLIC_URL"] = "https://helpdesk.example.com/"
    added = add_provider(cli, "contoso", "microsoft", "--tenant", "contoso.onmicrosoft.com",
                         "--client-secret-expires", "2031-01-31")
    assert "register this redirect URI at the provider: https://helpdesk.example.com/oauth/callback" in added.output
    stored = db.session.execute(text("SELECT client_secret FROM oauth_providers")).scalar_one()
    assert stored.startswith("gAAAA") and CLIENT_SECRET not in stored
    listed = cli("oauth", "providers", "list")
    assert "redirect URI to register at every provider: https://helpdesk.example.com/oauth/callback" in listed.output
    assert CLIENT_SECRET not in listed.output
    [shown] = json.loads(cli("oauth", "providers", "list", "--json").output)
    assert shown["client_secret_set"] is True and "client_secret" not in shown
    assert shown["endpoints"]["token"] == \
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    assert shown["client_secret_expires_at"].startswith("2031-01-31")
    changed = cli("oauth", "providers", "set", "contoso", "--tenant", "fabrikam.com")
    assert changed.exit_code == 0 and "tenant changed" in changed.output
    deleted = cli("oauth", "providers", "delete", "contoso", "--yes")
    assert deleted.exit_code == 0
    assert json.loads(cli("oauth", "providers", "list", "--json").output) == []


@pytest.mark.parametrize("args, message", [
    (["--kind", "yahoo", "--client-id", "x"], "no OAuth2 provider plugin of kind 'yahoo' is installed"),
    (["--kind", "generic", "--client-id", "x", "--scopes", "a"], "needs a --discovery-url, or explicit endpoints"),
    (["--kind", "generic", "--client-id", "x", "--token-url", "ftp://x/t", "--scopes", "a"], "is not an http(s) URL"),
    (["--kind", "microsoft", "--client-id", "x", "--client-secret-env", "UNSET_VARIABLE"],
     "environment variable UNSET_VARIABLE is empty or not set"),
    (["--kind", "microsoft", "--client-id", "x", "--client-secret-expires", "soon"], "write it as YYYY-MM-DD"),
])
def test_wrong_provider_settings_are_one_line_saying_what_to_fix(cli, args, message):
    result = cli("oauth", "providers", "add", "p1", *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_oauth_accounts_need_a_provider_and_a_grant_it_supports(cli, dovecot_oauth):
    add_provider(cli, "gmail", "google")
    base = ["accounts", "add", "--name", "a", "--protocol", "imaps", "--host", "127.0.0.1", "--username", "u@x.org",
            "--auth", "oauth2"]
    cases = [
        ([], "an OAuth2 account needs a provider"),
        (["--oauth-provider", "nope", "--grant", "device_code"], "there is no OAuth2 provider 'nope'"),
        (["--oauth-provider", "gmail"], "an OAuth2 account needs --grant"),
        (["--oauth-provider", "gmail", "--grant", "client_credentials"],
         "Google does not offer the client_credentials grant"),
    ]
    for extra, message in cases:
        result = cli(*base, *extra)
        assert result.exit_code == 1 and message in result.output, result.output
    name = add_oauth_account(cli, dovecot_oauth, "imaps", "u@x.org", "gmail", "authorization_code", sasl="oauthbearer")
    shown = json.loads(cli("accounts", "show", name, "--json").output)
    assert (shown["auth_method"], shown["oauth_provider"], shown["oauth_grant"], shown["sasl_mechanism"]) == \
        ("oauth2", "gmail", "authorization_code", "OAUTHBEARER")
    assert shown["oauth_status"] == "not-authorized"
    refused = cli("oauth", "providers", "delete", "gmail", "--yes")
    assert refused.exit_code == 1 and f"provider gmail is used by account(s) {name}" in refused.output
