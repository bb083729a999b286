// Bundled by scripts/browser-check into target/browser/passkey-client.js, which
// the passkey_app example (and the reference server) serve at /assets/passkey-client.js.
export { createAuthClient } from "better-auth/client";
export { passkeyClient } from "@better-auth/passkey/client";
