// The official Better Auth client (npm `better-auth`, `createAuthClient`)
// against our Axum server, unchanged: every call must succeed and return what
// the client's types promise. Usage: node check.mjs http://127.0.0.1:8787/api/auth
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

console.log("the official Better Auth client works against this server");
