// A real OpenID Connect provider (npm `oidc-provider`, a certified
// implementation) on loopback, for the social sign-in tests, the JS-client
// check and the browser check. Test-only: open dynamic client registration,
// no consent screen, and any email signs in without a password.
//
//   node server.mjs                      prints {"issuer": "http://127.0.0.1:PORT"} once listening
//
// Environment:
//   OIDC_HOST      host in the issuer URL (default 127.0.0.1; the listener is always loopback)
//   OIDC_PORT      port (default 0: any free port)
//   OIDC_CLIENTS   JSON array of clients to register at start, e.g.
//                  [{"client_id":"app","client_secret":"s","redirect_uris":["http://localhost:3000/api/auth/callback/oidc"]}]
//   OIDC_EXIT_WITH_STDIN=1   exit when standard input closes (the test process that started us ended)
//
// Signing in: the login page asks for an email address; an authorization
// request with `login_hint` signs that address in without showing the page
// (the Rust tests use this). The subject is `sub-<email>`; addresses whose local
// part starts with `unverified` get `email_verified: false`.
//
// Misbehaving clients, to prove the relying party refuses bad ID tokens from
// a provider that is otherwise real: register a client with
// `"x_misbehave": "<kind>"` and its token responses are altered after the
// provider made them: `wrong-aud`, `wrong-iss`, `expired`, `wrong-nonce`,
// `bad-signature` (signed by a key not in the JWKS), `garbage` (a 200 that is
// not JSON), `error` (a 500).
import http from "node:http";
import { randomUUID } from "node:crypto";
import Provider from "oidc-provider";
import { CompactSign, decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";

const host = process.env.OIDC_HOST || "127.0.0.1";
const port = Number(process.env.OIDC_PORT || 0);
const staticClients = JSON.parse(process.env.OIDC_CLIENTS || "[]");

const signing = await generateKeyPair("RS256", { extractable: true });
const rogue = await generateKeyPair("RS256", { extractable: true });
const kid = randomUUID();
const jwk = { ...(await exportJWK(signing.privateKey)), kid, alg: "RS256", use: "sig" };

const escape = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function account(id) {
  const email = String(id).toLowerCase();
  return {
    accountId: `sub-${email}`,
    async claims() {
      return {
        sub: `sub-${email}`,
        email,
        email_verified: !email.split("@")[0].startsWith("unverified"),
        name: email.split("@")[0].replace(/[._+-]/g, " "),
      };
    },
  };
}

const server = http.createServer();
await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
const issuer = `http://${host}:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: staticClients,
  jwks: { keys: [jwk] },
  // Account ids (and subjects) are `sub-<email>`.
  async findAccount(_ctx, id) {
    return account(id.startsWith("sub-") ? id.slice(4) : id);
  },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
  },
  scopes: ["openid", "email", "profile", "offline_access"],
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
  },
  extraClientMetadata: { properties: ["x_misbehave"] },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // First-party test clients: every scope asked for is granted, no consent screen.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile offline_access");
    await grant.save();
    return grant;
  },
  // Loopback http redirect URIs are fine here.
  cookies: { keys: [randomUUID()] },
  ttl: { Session: 600, Interaction: 600, Grant: 600 },
});

// Our own interactions: a one-field login page, or none with `login_hint`.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.prompt.name !== "login") {
    ctx.status = 501;
    ctx.body = `unexpected prompt ${details.prompt.name}`;
    return;
  }
  let login = details.params.login_hint;
  if (match[2] && ctx.method === "POST") {
    const body = await new Promise((resolve) => {
      let data = "";
      ctx.req.on("data", (chunk) => (data += chunk));
      ctx.req.on("end", () => resolve(new URLSearchParams(data)));
    });
    login = body.get("login");
  }
  if (login) {
    ctx.respond = false;
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: `sub-${String(login).toLowerCase()}` } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const client = details.params.client_id;
  ctx.type = "html";
  ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>Test OpenID Provider</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:4rem auto}input,button{font-size:1rem;padding:.4rem;width:100%;margin:.3rem 0}</style></head>
<body><h1>Test OpenID Provider</h1><p>Sign in to <b>${escape(client)}</b></p>
<form method="post" action="/interaction/${escape(details.uid)}/login">
<label>Email <input id="login" name="login" type="email" required autofocus></label>
<button id="submit" type="submit">Continue</button></form></body></html>`;
});

// Misbehaviours, applied to the token response of clients that ask for one.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== "/token" || ctx.status !== 200) return;
  const kind = ctx.oidc?.client?.x_misbehave;
  if (!kind) return;
  if (kind === "garbage") {
    ctx.type = "text/html";
    ctx.body = "<html>this is not a token response</html>";
    return;
  }
  if (kind === "error") {
    ctx.status = 500;
    ctx.body = { error: "server_error" };
    return;
  }
  const idToken = ctx.body?.id_token;
  if (!idToken) return;
  const header = decodeProtectedHeader(idToken);
  const claims = JSON.parse(Buffer.from(idToken.split(".")[1], "base64url").toString());
  let key = signing.privateKey;
  const now = Math.floor(Date.now() / 1000);
  switch (kind) {
    case "wrong-aud": claims.aud = "some-other-client"; delete claims.azp; break;
    case "wrong-iss": claims.iss = "http://evil.example"; break;
    case "expired": claims.iat = now - 7200; claims.exp = now - 3600; break;
    case "wrong-nonce": claims.nonce = "not-the-nonce-you-sent"; break;
    case "bad-signature": key = rogue.privateKey; break;
    default: return;
  }
  const payload = new TextEncoder().encode(JSON.stringify(claims));
  ctx.body = {
    ...ctx.body,
    id_token: await new CompactSign(payload).setProtectedHeader(header).sign(key),
  };
});

provider.on("server_error", (_ctx, err) => console.error("oidc-provider server_error", err));
server.on("request", provider.callback());
console.log(JSON.stringify({ issuer }));

if (process.env.OIDC_EXIT_WITH_STDIN === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}
process.on("SIGTERM", () => process.exit(0));
