// The official client's email-OTP plugin (`emailOTPClient`) against a server
// with the email-otp plugin: sign in (and up) with a code, verify the address
// with one, reset the password with one. Codes are read from the server's
// stderr (no email sender is set, so it prints them).
// Usage: node email-otp.mjs http://127.0.0.1:PORT/api/auth SERVER_STDERR_FILE
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";
import { emailOTPClient } from "better-auth/client/plugins";
import { browser, lastEmailed } from "./browser.mjs";

const baseURL = process.argv[2];
const serverLog = process.argv[3];
const step = (name) => console.log(`ok  ${name}`);
const { jar, fetch: browserFetch } = browser(baseURL);
const client = createAuthClient({
  baseURL,
  fetchOptions: { customFetchImpl: browserFetch },
  plugins: [emailOTPClient()],
});
// The code of the last message to `to` for `action` ("sign in", ...): mail goes
// out in the background, so an earlier message's code must not be taken.
const lastCode = (to, action) => lastEmailed(serverLog, to, new RegExp(`code to ${action}:\\s+(\\d{6})`));

const email = `otp-${Date.now()}@example.com`;
let res = await client.emailOtp.sendVerificationOtp({ email, type: "sign-in" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.deepEqual(res.data, { success: true });
res = await client.signIn.emailOtp({ email, otp: "000000" === (await lastCode(email, "sign in")) ? "111111" : "000000" });
assert.equal(res.error.status, 400, JSON.stringify(res.error));
assert.equal(res.error.code, "INVALID_OTP");
res = await client.signIn.emailOtp({ email, otp: await lastCode(email, "sign in"), name: "Otto" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.user.email, email);
assert.equal(res.data.user.emailVerified, true);
res = await client.getSession();
assert.equal(res.data.user.email, email);
step("emailOtp.sendVerificationOtp + signIn.emailOtp (new user)");

const other = `otp-pw-${Date.now()}@example.com`;
const password = "a long email-otp passphrase";
jar.clear();
res = await client.signUp.email({ name: "Ada", email: other, password });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.emailOtp.sendVerificationOtp({ email: other, type: "email-verification" });
assert.equal(res.error, null, JSON.stringify(res.error));
let code = await lastCode(other, "verify your email");
res = await client.emailOtp.checkVerificationOtp({ email: other, type: "email-verification", otp: code });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.emailOtp.verifyEmail({ email: other, otp: code });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.status, true);
assert.equal(res.data.user.emailVerified, true);
step("emailOtp.checkVerificationOtp + emailOtp.verifyEmail");

res = await client.emailOtp.requestPasswordReset({ email: other });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await client.emailOtp.resetPassword({ email: other, otp: await lastCode(other, "reset your password"), password: "another email-otp passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.deepEqual(res.data, { success: true });
res = await client.signIn.email({ email: other, password: "another email-otp passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
step("emailOtp.requestPasswordReset + emailOtp.resetPassword");

console.log("the official email-OTP client works against this server");
