// A person's session in a real browser (headless Chromium), on the social_app
// example: sign up, sign out, sign in, sign out, then "Sign in with Test
// OpenID": the provider's login page, back to the app, signed in with the
// session cookie set. Writes a screenshot of the signed-in page.
// Usage: node check.mjs http://localhost:8789 ISSUER SCREENSHOT_DIR
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [base, issuer, outDir] = process.argv.slice(2);
const step = (name) => console.log(`ok  ${name}`);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "better-auth-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 800, height: 700 },
});
context.setDefaultTimeout(15000);

try {
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const state = (s) => page.waitForSelector(`body[data-state="${s}"]`);

  await page.goto(base);
  await state("signed-out");
  step("page loaded, signed out");

  const email = `ada-${Date.now()}@example.com`;
  const password = "a long browser passphrase";
  await page.fill("#sign-up-name", "Ada");
  await page.fill("#sign-up-email", email);
  await page.fill("#sign-up-password", password);
  await page.click("#sign-up button[type=submit]");
  await state("signed-in");
  assert.equal(await page.textContent("#who"), email);
  step("sign-up");

  await page.click("#sign-out");
  await state("signed-out");
  step("sign-out");

  await page.fill("#sign-in-email", email);
  await page.fill("#sign-in-password", password);
  await page.click("#sign-in button[type=submit]");
  await state("signed-in");
  assert.equal(await page.textContent("#who"), email);
  step("sign-in");

  await page.click("#sign-out");
  await state("signed-out");

  // The social round trip: app -> provider's login page -> app.
  const social = `grace-${Date.now()}@example.com`;
  await page.click("#sign-in-oidc");
  await page.waitForURL((url) => url.toString().startsWith(issuer));
  step(`redirected to the provider (${new URL(page.url()).origin})`);
  await page.fill("#login", social);
  await page.click("#submit");
  await page.waitForURL((url) => url.toString().startsWith(base));
  await state("signed-in");
  assert.equal(await page.textContent("#who"), social);
  assert.equal(await page.textContent("#methods"), "oidc");
  step("signed in with the OpenID provider, back on the app");

  const cookies = await context.cookies(base);
  const session = cookies.find((c) => c.name === "better-auth.session_token");
  assert.ok(session, `session cookie set: ${JSON.stringify(cookies.map((c) => c.name))}`);
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Lax");
  assert.ok(!cookies.some((c) => c.name === "better-auth.state" && c.value), "state cookie cleared");
  step("session cookie set (HttpOnly, SameSite=Lax)");

  fs.mkdirSync(outDir, { recursive: true });
  const shot = path.join(outDir, "signed-in.png");
  await page.screenshot({ path: shot, fullPage: true });
  step(`screenshot: ${shot}`);
  assert.deepEqual(errors, [], "no errors on the page");
  console.log("a real browser signs up, signs in, and signs in with the OpenID provider");
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
