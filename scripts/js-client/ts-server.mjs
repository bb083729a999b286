// Better Auth's own TypeScript server (the pinned npm `better-auth`), with the
// plugins our checks drive, on an in-memory database: the reference the
// side-by-side check compares our server's answers with.
// Usage: PORT=8790 node ts-server.mjs   (emailed codes are printed on stderr)
// With TS_PLUGINS=username (or admin, or organization) it is a server with that
// plugin only (our plugins' example apps have one plugin each, and the user
// object carries the columns of every plugin installed); the admin one makes
// admin@example.com an admin, the organization one owner@example.com the owner
// of the organization "Example".
import { createServer } from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { admin, emailOTP, magicLink, organization, twoFactor, username } from "better-auth/plugins";

const port = Number(process.env.PORT ?? 8790);
const baseURL = `http://127.0.0.1:${port}`;
const db = { user: [], session: [], account: [], verification: [], twoFactor: [], organization: [], member: [], invitation: [] };
// Printed as our server prints a message without an email sender.
const printed = (to, subject, what) => console.error(`better-auth: "${subject}" to ${to} was not sent. ${what}\n`);

const auth = betterAuth({
  appName: "Example",
  baseURL,
  basePath: "/api/auth",
  secret: "two-factor-example-secret-of-some-length",
  database: memoryAdapter(db),
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  plugins: process.env.TS_PLUGINS === "username" ? [username()] : process.env.TS_PLUGINS === "admin" ? [admin()] : process.env.TS_PLUGINS === "organization" ? [organization({
    async sendInvitationEmail({ email, id, organization: org }) {
      printed(email, `You are invited to ${org.name}`, `Invitation: ${id}`);
    },
  })] : [
    twoFactor({
      issuer: "Example",
      otpOptions: {
        // Printed as our server prints a code message without an email sender.
        async sendOTP({ user, otp }) {
          printed(user.email, "Your sign-in code", `Message: Your code to sign in:\n\n${otp}`);
        },
      },
    }),
    emailOTP({
      async sendVerificationOTP({ email, otp, type }) {
        const action = { "sign-in": "sign in", "email-verification": "verify your email", "forget-password": "reset your password" }[type];
        printed(email, "Your code", `Message: Your code to ${action}:\n\n${otp}`);
      },
    }),
    magicLink({
      async sendMagicLink({ email, url }) {
        printed(email, "Your sign-in link", `Link: ${url}`);
      },
    }),
  ],
});

if (process.env.TS_PLUGINS === "admin") {
  // The first admin, as our admin_app example makes one.
  await auth.api.signUpEmail({ body: { name: "Admin", email: "admin@example.com", password: "an admin example passphrase" } });
  db.user.find((u) => u.email === "admin@example.com").role = "admin";
}

if (process.env.TS_PLUGINS === "organization") {
  // The owner and their organization, as our organization_app example makes them.
  const { user } = await auth.api.signUpEmail({ body: { name: "Owner", email: "owner@example.com", password: "an owner example passphrase" } });
  await auth.api.createOrganization({ body: { name: "Example", slug: "example", userId: user.id } });
}

createServer(toNodeHandler(auth)).listen(port, "127.0.0.1", () => {
  console.log(`listening on ${baseURL}/api/auth`);
});
