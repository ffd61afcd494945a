// Test peer: an OAuth2 authorization server on 127.0.0.1, built on oauth2-mock-server 8.2.3.
//
// As shipped, the mock accepts any code and any refresh token, every token is for
// "johndoe", and /introspect says `active: true` for anything. This wrapper keeps the
// mock's own token issuing, signing, PKCE check and JWKS, and uses its events and its
// Express app (the request handler) to make the parts the tests depend on real:
//
//   * GET /authorize shows a sign-in page; the user types an e-mail address, and the
//     code the mock issues (beforeAuthorizeRedirect) is bound to that user, client,
//     redirect URI and PKCE challenge. A code works once.
//   * Tokens carry the user's `email` (and `preferred_username`) claim
//     (beforeTokenSigning); the access-token lifetime is configurable.
//   * The token endpoint authenticates clients (client_secret_basic or _post), and
//     refuses unknown, used or revoked codes and refresh tokens with `invalid_grant`
//     (beforeResponse). Refresh tokens rotate: a used one is dead.
//   * POST /introspect reads a form body (as Dovecot sends it) or JSON, and answers
//     `active: false` for revoked, expired or unknown tokens.
//   * Microsoft identity platform paths (/{tenant}/oauth2/v2.0/authorize|token) are
//     served too, so the Microsoft provider plugin is tested with its own URL layout.
//   * /_control/* lets a test configure lifetimes, revoke, and read counters.
//
// Usage: PORT=NNNN CLIENTS='{"id":"secret"}' node server.js   (prints "READY" when up)
import http from "node:http";
import { OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";

const HOST = "127.0.0.1";
const PORT = Number(process.env.PORT);
const CODE_LIFETIME_SECONDS = 600;
const MS_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)(\?.*)?$/;

const settings = { accessTtl: 3600, refreshTokenTtl: null, tokenDelayMs: 0 };
const clients = new Map(Object.entries(JSON.parse(process.env.CLIENTS || "{}")));
const codes = new Map(); // code -> {email, clientId, redirectUri, challenge, expires, used}
const accessTokens = new Map(); // token -> {email, clientId, exp, revoked}
const refreshTokens = new Map(); // token -> {email, clientId, scope, revoked, used}
const appAccess = new Map(); // clientId -> mailbox the app may open (client credentials)
const stats = { grants: {}, refreshes: {}, tenants: [], introspections: 0, refused: [] };

const now = () => Math.floor(Date.now() / 1000);

const issuer = new OAuth2Issuer();
await issuer.keys.generate("RS256");
issuer.url = `http://${HOST}:${PORT}`;
const service = new OAuth2Service(issuer);

// --- who a token request is for (computed once per request) ---
function clientOf(req) {
  const header = req.headers.authorization || "";
  if (header.startsWith("Basic ")) {
    const [id, ...rest] = Buffer.from(header.slice(6), "base64").toString().split(":");
    return { id: decodeURIComponent(id), secret: decodeURIComponent(rest.join(":")) };
  }
  return { id: req.body.client_id, secret: req.body.client_secret };
}

function identityOf(req) {
  if (req.intake) return req.intake;
  const body = req.body;
  const client = clientOf(req);
  let email;
  let scope;
  let error;
  const expected = clients.get(client.id);
  if (expected === undefined) error = ["invalid_client", `unknown client ${client.id}`, 401];
  else if (expected !== null && expected !== client.secret) error = ["invalid_client", "client secret is wrong", 401];
  else if (body.grant_type === "authorization_code") {
    const entry = codes.get(body.code);
    if (!entry || entry.used || entry.expires < now()) error = ["invalid_grant", "the code is unknown, used or expired"];
    else if (entry.clientId !== client.id) error = ["invalid_grant", "the code was issued to another client"];
    else if (entry.redirectUri !== body.redirect_uri) error = ["invalid_grant", "redirect_uri does not match"];
    else if (!entry.challenge || !body.code_verifier) error = ["invalid_grant", "PKCE is required"];
    else [email, scope] = [entry.email, entry.scope];
  } else if (body.grant_type === "refresh_token") {
    const entry = refreshTokens.get(body.refresh_token);
    if (!entry) error = ["invalid_grant", "AADSTS9002313: the refresh token is unknown"];
    else if (entry.revoked) error = ["invalid_grant", "AADSTS50173: the refresh token was revoked"];
    else if (entry.used) error = ["invalid_grant", "AADSTS70000: the refresh token was already used"];
    else if (entry.clientId !== client.id) error = ["invalid_grant", "the refresh token belongs to another client"];
    else [email, scope] = [entry.email, entry.scope];
  } else if (body.grant_type === "client_credentials") {
    email = appAccess.get(client.id);
    scope = body.scope;
  }
  req.intake = { client, email, scope, error };
  return req.intake;
}

// Put the user into every token the mock signs, with the configured lifetime.
service.on("beforeTokenSigning", (token, req) => {
  const { email, scope } = identityOf(req);
  if (email) Object.assign(token.payload, { sub: email, email, preferred_username: email });
  if (scope && "scope" in token.payload) token.payload.scope = scope;
  token.payload.exp = token.payload.iat + settings.accessTtl;
});

// Remember which user signed in for each code the mock hands out.
service.on("beforeAuthorizeRedirect", (redirect, req) => {
  const code = redirect.url.searchParams.get("code");
  if (!code) return;
  codes.set(code, {
    email: req.query.login_email,
    clientId: req.query.client_id,
    redirectUri: req.query.redirect_uri,
    challenge: req.query.code_challenge,
    scope: req.query.scope,
    expires: now() + CODE_LIFETIME_SECONDS,
    used: false,
  });
});

// Refuse what a real server refuses; record what was issued.
service.on("beforeResponse", (response, req) => {
  const { client, email, scope, error } = identityOf(req);
  const grant = req.body.grant_type;
  if (error) {
    stats.refused.push({ grant, error: error[0], description: error[1] });
    response.statusCode = error[2] || 400;
    response.body = { error: error[0], error_description: error[1] };
    return;
  }
  stats.grants[grant] = (stats.grants[grant] || 0) + 1;
  if (grant === "authorization_code") codes.get(req.body.code).used = true;
  if (grant === "refresh_token") {
    refreshTokens.get(req.body.refresh_token).used = true; // rotation: a used refresh token is dead
    stats.refreshes[email] = (stats.refreshes[email] || 0) + 1;
  }
  const body = response.body;
  body.expires_in = settings.accessTtl;
  if (scope) body.scope = scope;
  accessTokens.set(body.access_token, { email, clientId: client.id, exp: now() + settings.accessTtl, revoked: false });
  if (body.refresh_token) {
    refreshTokens.set(body.refresh_token, { email, scope, clientId: client.id, revoked: false, used: false });
    if (settings.refreshTokenTtl) body.refresh_token_expires_in = settings.refreshTokenTtl;
  }
});

// --- our own routes, in front of the mock's Express app ---
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString()));
    req.on("error", reject);
  });
}

function parseBody(req, text) {
  if ((req.headers["content-type"] || "").includes("application/json")) return text ? JSON.parse(text) : {};
  return Object.fromEntries(new URLSearchParams(text));
}

function send(res, status, body, type = "application/json") {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(type === "application/json" ? JSON.stringify(body) : body);
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function signInPage(url) {
  const hidden = [...url.searchParams]
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join("\n");
  return `<!doctype html><html><head><title>Sign in</title></head><body>
<h1>Sign in to the test authorization server</h1>
<p>Client <code>${escapeHtml(url.searchParams.get("client_id"))}</code> asks for: ${escapeHtml(url.searchParams.get("scope") || "")}</p>
<form method="get" action="${escapeHtml(url.pathname)}">
${hidden}
<label>E-mail <input name="login_email" type="email" required></label>
<button type="submit">Sign in and allow</button>
</form></body></html>`;
}

function introspect(token) {
  stats.introspections += 1;
  const entry = accessTokens.get(token);
  if (!entry || entry.revoked || entry.exp <= now() || !entry.email) return { active: false };
  return { active: true, email: entry.email, sub: entry.email, client_id: entry.clientId, exp: entry.exp, token_type: "Bearer" };
}

function revoke(email, { access = true, refresh = true } = {}) {
  let count = 0;
  for (const [map, wanted] of [[accessTokens, access], [refreshTokens, refresh]]) {
    if (!wanted) continue;
    for (const entry of map.values()) {
      if (entry.email === email && !entry.revoked) {
        entry.revoked = true;
        count += 1;
      }
    }
  }
  return count;
}

async function control(req, res, path) {
  const body = req.method === "POST" ? parseBody(req, await readBody(req)) : {};
  switch (path) {
    case "/_control/stats":
      return send(res, 200, stats);
    case "/_control/settings":
      Object.assign(settings, body);
      return send(res, 200, settings);
    case "/_control/clients":
      clients.set(body.client_id, body.client_secret ?? null);
      return send(res, 200, { ok: true });
    case "/_control/app-access":
      appAccess.set(body.client_id, body.email);
      return send(res, 200, { ok: true });
    case "/_control/revoke": // the user's consent is withdrawn: every token of the user is dead
      return send(res, 200, { revoked: revoke(body.email) });
    case "/_control/revoke-access": // only the access tokens (the server refuses them; refresh still works)
      return send(res, 200, { revoked: revoke(body.email, { refresh: false }) });
    case "/_control/tokens": // every token issued, so tests can look for leaks
      return send(res, 200, { access: [...accessTokens.keys()], refresh: [...refreshTokens.keys()] });
    default:
      return send(res, 404, { error: "no such control route" });
  }
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer.url);
    const ms = MS_PATH.exec(req.url);
    if (ms) {
      stats.tenants.push(ms[1]);
      req.url = `/${ms[2]}${ms[3] || ""}`;
    }
    const path = new URL(req.url, issuer.url).pathname;
    if (path.startsWith("/_control/")) return await control(req, res, path);
    if (path === "/introspect" && req.method === "POST") {
      return send(res, 200, introspect(parseBody(req, await readBody(req)).token));
    }
    if (path === "/authorize" && !url.searchParams.get("login_email")) {
      return send(res, 200, signInPage(url), "text/html; charset=utf-8");
    }
    if (path === "/token" && settings.tokenDelayMs) {
      await new Promise((resolve) => setTimeout(resolve, settings.tokenDelayMs));
    }
    return service.requestHandler(req, res);
  } catch (err) {
    console.error(err);
    return send(res, 500, { error: "server_error", error_description: String(err) });
  }
});

server.listen(PORT, HOST, () => console.log(`READY ${issuer.url}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
