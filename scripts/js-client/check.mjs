// The official Better Auth client (npm `better-auth`, `createAuthClient`)
// against our Axum server, unchanged: every call must succeed and return what
// the client's types promise.
// Usage: node check.mjs http://127.0.0.1:8787/api/auth http://127.0.0.1:PORT (the OpenID issuer)
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";

const baseURL = process.argv[2];
let token = null;
const client = createAuthClient({
  baseURL,
  fetchOptions: {
    // Node's fetch keeps no cookies: use the bearer token the server exposes.
    onSuccess(ctx) {
      const next = ctx.response.headers.get("set-auth-token");
      if (next) token = next;
    },
    auth: { type: "Bearer", token: () => token ?? "" },
  },
});

const email = `js-${Date.now()}@example.com`;
const password = "a long js passphrase";
const step = (name) => console.log(`ok  ${name}`);

let res = await client.signUp.email({ name: "Ada", email, password });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.email, email);
assert.ok(token, "set-auth-token exposed");
step("signUp.email");

res = await client.signIn.email({ email, password: "wrong password!!" });
assert.equal(res.error.status, 401);
assert.equal(res.error.code, "INVALID_EMAIL_OR_PASSWORD");
step("signIn.email (wrong password)");

res = await client.signIn.email({ email, password });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.redirect, false);
step("signIn.email");

res = await client.getSession();
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.email, email);
assert.ok(new Date(res.data.session.expiresAt) > new Date(), "session expires in the future");
step("getSession");

res = await client.updateUser({ name: "Ada Lovelace" });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.getSession();
assert.equal(res.data.user.name, "Ada Lovelace");
step("updateUser");

res = await client.listSessions();
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.length, 2);
step("listSessions");

res = await client.listAccounts();
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data[0].providerId, "credential");
step("listAccounts");

res = await client.revokeOtherSessions();
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.listSessions();
assert.equal(res.data.length, 1);
step("revokeOtherSessions");

res = await client.changePassword({ currentPassword: password, newPassword: "another js passphrase", revokeOtherSessions: true });
assert.equal(res.error, null, JSON.stringify(res.error));
step("changePassword");

res = await client.requestPasswordReset({ email, redirectTo: "/reset" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.status, true);
step("requestPasswordReset");

res = await client.signOut();
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.getSession();
assert.equal(res.data, null);
step("signOut");

// Social sign-in against the local OpenID provider (scripts/oidc-provider).
// In node the client answers the provider's URL without navigating; this
// script then does what a browser does: follows the provider's redirects with
// the provider's cookies, and brings the state cookie that signIn.social set
// back to our callback.
const issuer = process.argv[3];
let stateCookie = null;
const keepStateCookie = {
  onResponse(ctx) {
    const line = ctx.response.headers.getSetCookie().find((c) => c.startsWith("better-auth.state="));
    if (line) stateCookie = line.split(";")[0];
  },
};

async function followToCallback(url) {
  const jar = new Map();
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(`${baseURL}/callback/`)) return url;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(url, { redirect: "manual", headers: { cookie } });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";")[0];
      const at = pair.indexOf("=");
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const location = res.headers.get("location");
    assert.ok(location, `a redirect from ${url}, got ${res.status}`);
    url = new URL(location, url).toString();
  }
  throw new Error("too many redirects");
}

async function finish(url) {
  const callback = await followToCallback(url);
  const res = await fetch(callback, { redirect: "manual", headers: { cookie: stateCookie } });
  assert.equal(res.status, 302, await res.text());
  const next = res.headers.get("set-auth-token");
  if (next) token = next;
  return res.headers.get("location");
}

const socialEmail = `social-${Date.now()}@example.com`;
res = await client.signIn.social(
  { provider: "oidc", callbackURL: "/dashboard", newUserCallbackURL: "/welcome", loginHint: socialEmail },
  keepStateCookie,
);
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.redirect, true);
assert.ok(res.data.url.startsWith(issuer), res.data.url);
assert.ok(stateCookie, "signIn.social sets the state cookie");
assert.equal(await finish(res.data.url), "/welcome");
res = await client.getSession();
assert.equal(res.data.user.email, socialEmail);
assert.equal(res.data.user.emailVerified, true);
step("signIn.social (new user)");

res = await client.listAccounts();
assert.equal(res.error, null, JSON.stringify(res.error));
assert.deepEqual(res.data.map((a) => a.providerId), ["oidc"]);
assert.equal(res.data[0].accountId, `sub-${socialEmail}`);
step("listAccounts (oidc)");

res = await client.signIn.social({ provider: "oidc", callbackURL: "/dashboard", loginHint: socialEmail }, keepStateCookie);
assert.equal(await finish(res.data.url), "/dashboard");
step("signIn.social (returning user)");

res = await client.signIn.social({ provider: "nope" });
assert.equal(res.error.status, 404);
assert.equal(res.error.code, "PROVIDER_NOT_FOUND");
step("signIn.social (unknown provider)");

const linkEmail = `link-${Date.now()}@example.com`;
res = await client.signUp.email({ name: "Linus", email: linkEmail, password });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.linkSocial({ provider: "oidc", callbackURL: "/settings", loginHint: linkEmail }, keepStateCookie);
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.redirect, true);
assert.equal(await finish(res.data.url), "/settings");
res = await client.listAccounts();
assert.deepEqual(res.data.map((a) => a.providerId).sort(), ["credential", "oidc"]);
step("linkSocial + listAccounts");

res = await client.unlinkAccount({ providerId: "oidc" });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.listAccounts();
assert.deepEqual(res.data.map((a) => a.providerId), ["credential"]);
res = await client.unlinkAccount({ providerId: "credential" });
assert.equal(res.error.code, "FAILED_TO_UNLINK_LAST_ACCOUNT");
step("unlinkAccount (and never the last)");

console.log("the official Better Auth client works against this server");
