// Bundled by scripts/browser-check into target/browser/auth-client.js, which
// the social_app example serves at /assets/auth-client.js.
export { createAuthClient } from "better-auth/client";
