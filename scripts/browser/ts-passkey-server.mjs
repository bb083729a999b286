// Better Auth's own TypeScript server (the pinned npm `better-auth` and
// `@better-auth/passkey`) with password sign-in and passkeys, on an in-memory
// database, serving the passkey_app example's page and the bundled client: the
// reference scripts/browser-check compares our passkey answers with.
// Usage: PORT=8796 node ts-passkey-server.mjs PAGE_HTML CLIENT_JS
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { passkey } from "@better-auth/passkey";

const port = Number(process.env.PORT ?? 8796);
const [pagePath, clientPath] = process.argv.slice(2);
const baseURL = `http://localhost:${port}`;
const auth = betterAuth({
  appName: "Example",
  baseURL,
  basePath: "/api/auth",
  secret: "passkey-example-secret-of-some-length!!!",
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], passkey: [] }),
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  plugins: [passkey({ rpName: "Example" })],
});
const api = toNodeHandler(auth);

createServer((req, res) => {
  if (req.url === "/") {
    res.writeHead(200, { "content-type": "text/html" }).end(readFileSync(pagePath));
  } else if (req.url === "/assets/passkey-client.js") {
    res.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(clientPath));
  } else {
    api(req, res);
  }
}).listen(port, "127.0.0.1", () => console.log(`listening on ${baseURL}`));
