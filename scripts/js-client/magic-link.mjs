// The official client's magic-link plugin (`magicLinkClient`) against a
// server with the magic-link plugin: ask for a link (new user, then returning
// user), follow it as a browser does, and find the session; a used link
// lands on the error. Links are read from the server's stderr.
// Usage: node magic-link.mjs http://127.0.0.1:PORT/api/auth SERVER_STDERR_FILE
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";
import { magicLinkClient } from "better-auth/client/plugins";
import { browser, lastEmailed } from "./browser.mjs";

const baseURL = process.argv[2];
const serverLog = process.argv[3];
const step = (name) => console.log(`ok  ${name}`);
const { fetch: browserFetch } = browser(baseURL);
const client = createAuthClient({
  baseURL,
  fetchOptions: { customFetchImpl: browserFetch },
  plugins: [magicLinkClient()],
});
const origin = new URL(baseURL).origin;
const lastLink = (to, not) => lastEmailed(serverLog, to, /(http\S+\/magic-link\/verify\?\S+)/, not);
// Following the link as a browser does: one GET, the redirect not followed.
const follow = async (link) => {
  const res = await browserFetch(link, { redirect: "manual" });
  return res.headers.get("location");
};

const email = `ml-${Date.now()}@example.com`;
let res = await client.signIn.magicLink({
  email,
  name: "Nia",
  callbackURL: "/dashboard",
  newUserCallbackURL: "/welcome",
});
assert.equal(res.error, null, JSON.stringify(res.error));
assert.deepEqual(res.data, { status: true });
const link = await lastLink(email);
assert.equal(await follow(link), `${origin}/welcome`);
res = await client.getSession();
assert.equal(res.data.user.email, email);
assert.equal(res.data.user.name, "Nia");
assert.equal(res.data.user.emailVerified, true);
step("signIn.magicLink (new user) + the link");

assert.equal(await follow(link), `${origin}/dashboard?error=INVALID_TOKEN`);
step("a used link lands on the error");

await client.signOut();
res = await client.signIn.magicLink({ email, callbackURL: "/dashboard" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(await follow(await lastLink(email, link)), `${origin}/dashboard`);
res = await client.getSession();
assert.equal(res.data.user.email, email);
step("signIn.magicLink (returning user)");

assert.equal(
  await follow(`${baseURL}/magic-link/verify?token=not-a-token&callbackURL=%2Fdashboard&errorCallbackURL=%2Foops`),
  `${origin}/oops?error=INVALID_TOKEN`,
);
step("a made-up link lands on errorCallbackURL");

console.log("the official magic-link client works against this server");
