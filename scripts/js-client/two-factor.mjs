// The official client's two-factor plugin (`twoFactorClient` from
// `better-auth/client/plugins`) against our server with the two-factor plugin:
// enable, verify the first code, sign in with a TOTP code, with a backup code,
// trust the device, disable. Cookies are kept as a browser keeps them (the
// challenge travels in the `two_factor` cookie).
// Emailed codes are read from the server's stderr (no email sender is set, so
// it prints them, as in local development).
// Usage: node two-factor.mjs http://127.0.0.1:PORT/api/auth SERVER_STDERR_FILE
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createAuthClient } from "better-auth/client";
import { twoFactorClient } from "better-auth/client/plugins";
import { browser, lastEmailed } from "./browser.mjs";

const baseURL = process.argv[2];
const serverLog = process.argv[3];

const lastEmailedCode = (to) => lastEmailed(serverLog, to, /code to sign in:\s+(\d{6})/);
const step = (name) => console.log(`ok  ${name}`);

const { jar, fetch: browserFetch } = browser(baseURL);

let redirected = null;
const client = createAuthClient({
  baseURL,
  fetchOptions: { customFetchImpl: browserFetch },
  plugins: [twoFactorClient({ onTwoFactorRedirect: (ctx) => { redirected = ctx; } })],
});

// RFC 6238 (SHA-1, 6 digits, 30 s), written independently of the server's.
function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of text.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}
function totp(uri, offsetSteps = 0) {
  const secret = base32Decode(new URL(uri).searchParams.get("secret"));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offsetSteps));
  const mac = createHmac("sha1", secret).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(at) & 0x7fffffff) % 1e6;
  return value.toString().padStart(6, "0");
}

const email = `2fa-${Date.now()}@example.com`;
const password = "a long two-factor passphrase";
let res = await client.signUp.email({ name: "Grace", email, password });
assert.equal(res.error, null, JSON.stringify(res.error));

res = await client.twoFactor.enable({ password: "not the password" });
assert.equal(res.error.status, 400, JSON.stringify(res.error));
assert.equal(res.error.code, "INVALID_PASSWORD");
res = await client.twoFactor.enable({ password, issuer: "JS Check" });
assert.equal(res.error, null, JSON.stringify(res.error));
const { totpURI, backupCodes } = res.data;
assert.ok(totpURI.startsWith(`otpauth://totp/JS%20Check:${encodeURIComponent(email)}?secret=`), totpURI);
assert.equal(backupCodes.length, 10);
step("twoFactor.enable (URI and backup codes)");

res = await client.twoFactor.verifyTotp({ code: totp(totpURI) });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.getSession();
assert.equal(res.data.user.email, email);
step("twoFactor.verifyTotp (setup finished)");

res = await client.twoFactor.getTotpUri({ password });
assert.equal(res.error, null, JSON.stringify(res.error));
// Better Auth names the plugin's issuer here, not the one asked at enable.
const secretOf = (uri) => new URL(uri).searchParams.get("secret");
assert.equal(secretOf(res.data.totpURI), secretOf(totpURI));
assert.ok(res.data.totpURI.startsWith("otpauth://totp/Example:"), res.data.totpURI);
step("twoFactor.getTotpUri");

await client.signOut();
res = await client.signIn.email({ email, password });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.twoFactorRedirect, true);
assert.deepEqual(res.data.twoFactorMethods, ["totp", "otp"]);
assert.deepEqual(redirected, { twoFactorMethods: ["totp", "otp"] });
res = await client.getSession();
assert.equal(res.data, null, "no session before the second factor");
res = await client.twoFactor.verifyTotp({ code: "000000" === totp(totpURI) ? "111111" : "000000" });
assert.equal(res.error.status, 401);
assert.equal(res.error.code, "INVALID_CODE");
// The code of the next step: the setup already used this step's.
res = await client.twoFactor.verifyTotp({ code: totp(totpURI, 1) });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.email, email);
res = await client.getSession();
assert.equal(res.data.user.email, email);
step("signIn.email + twoFactor.verifyTotp");

await client.signOut();
res = await client.signIn.email({ email, password });
assert.equal(res.data.twoFactorRedirect, true);
res = await client.twoFactor.verifyBackupCode({ code: backupCodes[0], trustDevice: true });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.getSession();
assert.equal(res.data.user.email, email);
step("signIn.email + twoFactor.verifyBackupCode (device trusted)");

await client.signOut();
res = await client.signIn.email({ email, password });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.twoFactorRedirect, undefined, "a trusted device signs in with the password");
assert.equal(res.data.user.email, email);
step("signIn.email on a trusted device");

// A code by email instead of the app (a fresh browser: this one is trusted).
jar.clear();
res = await client.signIn.email({ email, password });
assert.equal(res.data.twoFactorRedirect, true);
res = await client.twoFactor.sendOtp();
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.twoFactor.verifyOtp({ code: await lastEmailedCode(email) });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.email, email);
res = await client.getSession();
assert.equal(res.data.user.email, email);
step("signIn.email + twoFactor.sendOtp + twoFactor.verifyOtp");

res = await client.twoFactor.generateBackupCodes({ password });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.backupCodes.length, 10);
step("twoFactor.generateBackupCodes");

res = await client.twoFactor.disable({ password });
assert.equal(res.error, null, JSON.stringify(res.error));
await client.signOut();
res = await client.signIn.email({ email, password });
assert.equal(res.data.twoFactorRedirect, undefined);
assert.equal(res.data.user.email, email);
step("twoFactor.disable");

console.log("the official two-factor client works against this server");
