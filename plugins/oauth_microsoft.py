"""Microsoft identity platform (Microsoft 365 / Exchange Online) as an OAuth2 provider.

Endpoints are tenant-aware: ``{authority}/{tenant}/oauth2/v2.0/{authorize,token,devicecode}``.
The authority defaults to the global cloud and can be set for national clouds
(``https://login.microsoftonline.us``, ``https://login.chinacloudapi.cn``) or tests.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from intake.oauth.errors import ProviderConfigError
from intake.oauth.providers import CLIENT_CREDENTIALS, Endpoints, OAuthProvider

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_TENANT = "common"
#: Tenants that name no directory: fine for users signing in, not for an app acting alone.
MULTI_TENANT = ("common", "organizations", "consumers")

RESOURCE = "https://outlook.office.com"
SCOPES = {
    "imap": f"{RESOURCE}/IMAP.AccessAsUser.All",
    "pop3": f"{RESOURCE}/POP.AccessAsUser.All",
    "smtp": f"{RESOURCE}/SMTP.Send",
}
#: Client credentials (app-only): the app's granted Exchange Online permissions.
APP_SCOPE = "https://outlook.office365.com/.default"
#: ID-token claims that name the mailbox; offline_access returns a refresh token.
USER_SCOPES = ("offline_access", "openid", "email")


class Microsoft(OAuthProvider):
    name = "microsoft"
    label = "Microsoft identity platform"
    token_auth_method = "client_secret_post"
    #: Refresh tokens expire after 90 days of not being used.
    refresh_token_lifetime = timedelta(days=90)

    def _base(self) -> str:
        authority = (self.settings.authority or DEFAULT_AUTHORITY).rstrip("/")
        tenant = self.settings.tenant or DEFAULT_TENANT
        return f"{authority}/{quote(tenant, safe='')}/oauth2/v2.0"

    def default_endpoints(self) -> Endpoints:
        base = self._base()
        return Endpoints(authorize=f"{base}/authorize", token=f"{base}/token", device=f"{base}/devicecode")

    def default_scopes(self, use: str, grant: str) -> list[str]:
        if grant == CLIENT_CREDENTIALS:
            return [APP_SCOPE]
        return [SCOPES.get(use, SCOPES["imap"]), *USER_SCOPES]

    def validate(self) -> None:
        tenant = self.settings.tenant
        if tenant is not None and (not tenant.strip() or "/" in tenant):
            raise ProviderConfigError(f"tenant {tenant!r} is not a tenant ID or domain (e.g. contoso.onmicrosoft.com)")

    def check_grant(self, grant: str) -> None:
        super().check_grant(grant)
        if grant == CLIENT_CREDENTIALS and (self.settings.tenant or DEFAULT_TENANT) in MULTI_TENANT:
            raise ProviderConfigError(
                f"the client_credentials grant needs the directory's tenant ID or domain; give provider "
                f"{self.settings.name} a --tenant (not common, organizations or consumers)"
            )
