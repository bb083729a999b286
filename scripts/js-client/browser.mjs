// What the plugin checks share: a fetch that keeps cookies as a browser does
// (and sends the app's origin), a transcript of every answer's status and
// JSON shape (to compare two servers), and reading what a server "emailed"
// from its stderr (no email sender is set, so it prints them).
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";

// With TRANSCRIPT set, every answer is written there as `METHOD /path STATUS
// shape`, the shape being the JSON body's keys and value types.
const transcript = process.env.TRANSCRIPT;
if (transcript) writeFileSync(transcript, "");

function shape(value) {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value === null) return "null";
  if (typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shape(value[k])]));
  }
  return typeof value;
}

export function browser(baseURL) {
  const jar = new Map();
  async function browserFetch(input, init = {}) {
    const headers = new Headers(init.headers);
    // A browser page on the app's origin sends it with every request.
    headers.set("origin", new URL(baseURL).origin);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(input, { ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";")[0];
      const at = pair.indexOf("=");
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (/max-age=0/i.test(line) || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    if (transcript) {
      const text = await res.clone().text();
      let body = text;
      try { body = shape(JSON.parse(text)); } catch {}
      const url = new URL(input instanceof Request ? input.url : input);
      const path = url.pathname.replace(/^.*\/api\/auth/, "");
      const location = res.headers.get("location");
      const where = location ? ` -> ${new URL(location, url).pathname}${new URL(location, url).search.replace(/token=[^&]*/, "token=…")}` : "";
      appendFileSync(transcript, `${init.method ?? "GET"} ${path} ${res.status}${where} ${JSON.stringify(body)}\n`);
    }
    return res;
  }
  return { jar, fetch: browserFetch };
}

// The last message the server printed for `to` that matches `pattern`
// (its first group), waiting for it a little.
export async function lastEmailed(serverLog, to, pattern, not = undefined) {
  for (let i = 0; i < 50; i++) {
    const messages = readFileSync(serverLog, "utf8").split("better-auth: ").filter((l) => l.includes(` to ${to} `));
    const found = messages.length && messages[messages.length - 1].match(pattern);
    // `not`: an earlier email's value, so the next one is waited for (sent in the background).
    if (found && found[1] !== not) return found[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing emailed to ${to}`);
}
