// The official client's username plugin (`usernameClient`) against a server
// with the username plugin: sign up with a username, check availability, sign
// in by username (in any case), the refusals, and a change of username.
// Usage: node username.mjs http://127.0.0.1:PORT/api/auth
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";
import { usernameClient } from "better-auth/client/plugins";
import { browser } from "./browser.mjs";

const baseURL = process.argv[2];
const step = (name) => console.log(`ok  ${name}`);
const { jar, fetch: browserFetch } = browser(baseURL);
const client = createAuthClient({
  baseURL,
  fetchOptions: { customFetchImpl: browserFetch },
  plugins: [usernameClient()],
});

const stamp = Date.now().toString(36);
const typed = `Ada_${stamp}`;
const email = `username-${stamp}@example.com`;
const password = "a long username passphrase";
let res = await client.signUp.email({ name: "Ada", email, password, username: typed });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.username, typed.toLowerCase());
assert.equal(res.data.user.displayUsername, typed);
step("signUp.email with a username");

res = await client.isUsernameAvailable({ username: typed.toUpperCase() });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.deepEqual(res.data, { available: false });
res = await client.isUsernameAvailable({ username: `free_${stamp}` });
assert.deepEqual(res.data, { available: true });
res = await client.isUsernameAvailable({ username: "a b" });
assert.equal(res.error.status, 422, JSON.stringify(res.error));
assert.equal(res.error.code, "INVALID_USERNAME");
step("isUsernameAvailable");

res = await client.signOut();
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.signIn.username({ username: typed.toUpperCase(), password });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.email, email);
res = await client.getSession();
assert.equal(res.data.user.username, typed.toLowerCase());
step("signIn.username (any case) + getSession");

const unknown = await client.signIn.username({ username: `nobody_${stamp}`, password });
const wrong = await client.signIn.username({ username: typed, password: "not the passphrase at all" });
for (const answer of [unknown, wrong]) {
  assert.equal(answer.error.status, 401, JSON.stringify(answer.error));
  assert.equal(answer.error.code, "INVALID_USERNAME_OR_PASSWORD");
}
res = await client.signIn.username({ username: "ab", password });
assert.equal(res.error.status, 422, JSON.stringify(res.error));
assert.equal(res.error.code, "USERNAME_TOO_SHORT");
step("signIn.username refusals (unknown and wrong alike)");

res = await client.updateUser({ username: `Grace_${stamp}` });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.getSession();
assert.equal(res.data.user.username, `grace_${stamp}`);
step("updateUser with a new username");

jar.clear();
res = await client.signUp.email({ name: "Eve", email: `eve-${stamp}@example.com`, password, username: `GRACE_${stamp}` });
assert.equal(res.error.status, 400, JSON.stringify(res.error));
assert.equal(res.error.code, "USERNAME_IS_ALREADY_TAKEN");
res = await client.signUp.email({ name: "Eve", email: `eve-${stamp}@example.com`, password, username: "eve smith" });
assert.equal(res.error.status, 400, JSON.stringify(res.error));
assert.equal(res.error.code, "INVALID_USERNAME");
step("signUp.email refusals (taken, invalid)");

console.log("the official username client works against this server");
