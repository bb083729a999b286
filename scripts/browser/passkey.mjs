// Passkeys in a real browser: headless Chromium with a virtual authenticator
// (the DevTools protocol's WebAuthn domain), on a page with the official
// client and `passkeyClient`: sign up, register a passkey, sign out, sign in
// with it, list, rename and delete it. With TRANSCRIPT set, every answer of
// the auth API is written there as `METHOD /path STATUS shape`, to compare two
// servers (ours and Better Auth's).
// Usage: node passkey.mjs http://localhost:PORT
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [base] = process.argv.slice(2);
const step = (name) => console.log(`ok  ${name}`);
const transcript = process.env.TRANSCRIPT;
if (transcript) fs.writeFileSync(transcript, "");
const shape = (value) => {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value === null) return "null";
  if (typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shape(value[k])]));
  }
  return typeof value;
};

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "better-auth-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
context.setDefaultTimeout(15000);

try {
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const answers = [];
  page.on("response", (res) => {
    const url = new URL(res.url());
    if (!url.pathname.startsWith("/api/auth/")) return;
    answers.push(
      res.text().then((text) => {
        let body = text;
        try { body = shape(JSON.parse(text)); } catch {}
        return `${res.request().method()} ${url.pathname.slice("/api/auth".length)} ${res.status()} ${JSON.stringify(body)}`;
      }),
    );
  });

  // A platform authenticator that holds passkeys and verifies its user.
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  await page.goto(base);
  await page.waitForSelector('body[data-state="ready"]');
  const call = (fn, arg) => page.evaluate(fn, arg);

  const email = `passkey-${Date.now()}@example.com`;
  let res = await call(({ email }) => window.auth.signUp.email({ name: "Pia", email, password: "a long passkey passphrase" }), { email });
  assert.equal(res.error, null, JSON.stringify(res.error));
  step("sign-up");

  res = await call(() => window.auth.passkey.addPasskey({ name: "Laptop" }));
  assert.equal(res.error, null, JSON.stringify(res.error));
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1, "the authenticator holds the passkey");
  step("passkey.addPasskey (the authenticator made a credential)");

  res = await call(() => window.auth.signOut());
  assert.equal(res.error, null, JSON.stringify(res.error));
  res = await call(() => window.auth.getSession());
  assert.equal(res.data, null);
  res = await call(() => window.auth.signIn.passkey());
  assert.equal(res.error, null, JSON.stringify(res.error));
  res = await call(() => window.auth.getSession());
  assert.equal(res.data.user.email, email);
  step("sign-out, then signIn.passkey: signed in");

  res = await call(() => window.auth.passkey.listUserPasskeys());
  assert.equal(res.error, null, JSON.stringify(res.error));
  assert.equal(res.data.length, 1);
  assert.equal(res.data[0].name, "Laptop");
  assert.equal(res.data[0].credentialID, credentials[0].credentialId.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
  const id = res.data[0].id;
  res = await call((id) => window.auth.passkey.updatePasskey({ id, name: "Work laptop" }), id);
  assert.equal(res.error, null, JSON.stringify(res.error));
  assert.equal(res.data.passkey.name, "Work laptop");
  res = await call((id) => window.auth.passkey.deletePasskey({ id }), id);
  assert.equal(res.error, null, JSON.stringify(res.error));
  res = await call(() => window.auth.passkey.listUserPasskeys());
  assert.deepEqual(res.data, []);
  step("passkey.listUserPasskeys, updatePasskey, deletePasskey");

  if (transcript) fs.writeFileSync(transcript, (await Promise.all(answers)).join("\n") + "\n");
  assert.deepEqual(errors, [], "no errors on the page");
  console.log("a real browser registers a passkey and signs in with it");
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
