// The official client's admin plugin (`adminClient`) against a server with the
// admin plugin and an admin (admin@example.com): list and search users, set a
// role, ban (the user's sessions end, sign-in is refused) and unban, a user's
// sessions, set a user's password, create a user, update a user, permissions,
// impersonate a user and stop, revoke one session, remove a user; a user who is
// not an admin is refused.
// Usage: node admin.mjs http://127.0.0.1:PORT/api/auth
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";
import { adminClient } from "better-auth/client/plugins";
import { browser } from "./browser.mjs";

const baseURL = process.argv[2];
const step = (name) => console.log(`ok  ${name}`);
const client = (fetch) =>
  createAuthClient({ baseURL, fetchOptions: { customFetchImpl: fetch }, plugins: [adminClient()] });
const admin = client(browser(baseURL).fetch);
const user = client(browser(baseURL).fetch);

const password = "an admin example passphrase";
let res = await admin.signIn.email({ email: "admin@example.com", password });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.role, "admin");
const stamp = Date.now().toString(36);
const email = `member-${stamp}@example.com`;
res = await user.signUp.email({ name: "Mo", email, password: "a long member passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.role, "user");
const userId = res.data.user.id;
res = await user.admin.listUsers({ query: { limit: 10 } });
assert.equal(res.error.status, 403, JSON.stringify(res.error));
assert.equal(res.error.code, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS");
step("a user who is not an admin is refused");

res = await admin.admin.listUsers({ query: { searchValue: "member-", searchField: "email", limit: 10, offset: 0 } });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.total, 1);
assert.equal(res.data.users[0].email, email);
res = await admin.admin.setRole({ userId, role: "support" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.role, "support");
step("admin.listUsers (search) + admin.setRole");

res = await admin.admin.listUserSessions({ userId });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.sessions.length, 1);
res = await admin.admin.banUser({ userId, banReason: "spam", banExpiresIn: 3600 });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.banned, true);
res = await user.getSession();
assert.equal(res.data, null);
res = await user.signIn.email({ email, password: "a long member passphrase" });
assert.equal(res.error.status, 403, JSON.stringify(res.error));
assert.equal(res.error.code, "BANNED_USER");
res = await admin.admin.unbanUser({ userId });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.banned, false);
res = await user.signIn.email({ email, password: "a long member passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
step("admin.banUser (sessions end, sign-in refused) + admin.unbanUser");

res = await admin.admin.setUserPassword({ userId, newPassword: "another long member passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.deepEqual(res.data, { status: true });
res = await user.signIn.email({ email, password: "another long member passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await admin.admin.createUser({ email: `made-${stamp}@example.com`, name: "Made", password: "a made-up passphrase", role: "support" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.role, "support");
step("admin.setUserPassword + admin.createUser");

res = await admin.admin.hasPermission({ permissions: { user: ["ban", "list"] } });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.success, true);
res = await admin.admin.hasPermission({ permissions: { user: ["impersonate-admins"] } });
assert.equal(res.data.success, false);
res = await user.admin.hasPermission({ permissions: { user: ["list"] } });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.success, false);
res = await admin.admin.updateUser({ userId, data: { name: "Mona", role: "user" } });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.name, "Mona");
assert.equal(res.data.role, "user");
res = await user.admin.updateUser({ userId, data: { name: "Me" } });
assert.equal(res.error.status, 403, JSON.stringify(res.error));
step("admin.hasPermission + admin.updateUser");

const adminId = (await admin.getSession()).data.user.id;
res = await admin.admin.impersonateUser({ userId });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.id, userId);
assert.equal(res.data.session.impersonatedBy, adminId);
res = await admin.getSession();
assert.equal(res.data.user.id, userId);
assert.equal(res.data.session.impersonatedBy, adminId);
res = await admin.admin.listUsers({ query: { limit: 1 } });
assert.equal(res.error.status, 403, JSON.stringify(res.error));
res = await admin.admin.stopImpersonating();
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.id, adminId);
res = await admin.getSession();
assert.equal(res.data.user.id, adminId);
res = await user.admin.impersonateUser({ userId: adminId });
assert.equal(res.error.status, 403, JSON.stringify(res.error));
step("admin.impersonateUser + admin.stopImpersonating");

// (Better Auth keeps sessions a set password would end; ours has one here.)
const current = (await user.getSession()).data.session.id;
res = await admin.admin.listUserSessions({ userId });
assert.equal(res.error, null, JSON.stringify(res.error));
const listed = res.data.sessions.find((s) => s.id === current);
res = await admin.admin.revokeUserSession({ sessionToken: listed.token });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.deepEqual(res.data, { success: true });
res = await user.getSession();
assert.equal(res.data, null);
res = await user.signIn.email({ email, password: "another long member passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
step("admin.revokeUserSession");

res = await admin.admin.revokeUserSessions({ userId });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.deepEqual(res.data, { success: true });
res = await user.getSession();
assert.equal(res.data, null);
res = await admin.admin.removeUser({ userId });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.deepEqual(res.data, { success: true });
res = await user.signIn.email({ email, password: "another long member passphrase" });
assert.equal(res.error.status, 401, JSON.stringify(res.error));
step("admin.revokeUserSessions + admin.removeUser");

console.log("the official admin client works against this server");
