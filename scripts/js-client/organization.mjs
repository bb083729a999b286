// The official client's organization plugin (`organizationClient`) against a
// server with the organization plugin and an owner (owner@example.com) of one
// organization: create an organization (active at once), check a slug, invite
// a member, who accepts (their active organization), check permissions, change
// a role, refuse an outsider, cancel and reject invitations, the last owner
// cannot leave, a member leaves, delete the organization.
// Usage: node organization.mjs http://127.0.0.1:PORT/api/auth
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";
import { organizationClient } from "better-auth/client/plugins";
import { browser } from "./browser.mjs";

const baseURL = process.argv[2];
const step = (name) => console.log(`ok  ${name}`);
const client = (fetch) =>
  createAuthClient({ baseURL, fetchOptions: { customFetchImpl: fetch }, plugins: [organizationClient()] });
const owner = client(browser(baseURL).fetch);
const member = client(browser(baseURL).fetch);
const outsider = client(browser(baseURL).fetch);

const stamp = Date.now().toString(36);
let res = await owner.signIn.email({ email: "owner@example.com", password: "an owner example passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await owner.organization.list();
assert.equal(res.error, null, JSON.stringify(res.error));
assert.ok(res.data.some((o) => o.slug === "example"), JSON.stringify(res.data));
step("organization.list (the owner's organization)");

const slug = `acme-${stamp}`;
res = await owner.organization.checkSlug({ slug });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.status, true);
res = await owner.organization.create({ name: "Acme", slug });
assert.equal(res.error, null, JSON.stringify(res.error));
const orgId = res.data.id;
assert.equal(res.data.slug, slug);
assert.equal(res.data.members[0].role, "owner");
res = await owner.organization.checkSlug({ slug });
assert.equal(res.error.status, 400, JSON.stringify(res.error));
res = await owner.organization.create({ name: "Acme again", slug });
assert.equal(res.error.status, 400, JSON.stringify(res.error));
res = await owner.getSession();
assert.equal(res.data.session.activeOrganizationId, orgId);
res = await owner.organization.getFullOrganization();
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.id, orgId);
assert.equal(res.data.members.length, 1);
res = await owner.organization.update({ data: { name: "Acme Inc" } });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.name, "Acme Inc");
step("organization.create (active) + checkSlug + getFullOrganization + update");

const memberEmail = `member-${stamp}@example.com`;
res = await member.signUp.email({ name: "Mia", email: memberEmail, password: "a long member passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await outsider.signUp.email({ name: "Otto", email: `outsider-${stamp}@example.com`, password: "a long outsider passphrase" });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await owner.organization.inviteMember({ email: memberEmail, role: "member" });
assert.equal(res.error, null, JSON.stringify(res.error));
const invitationId = res.data.id;
assert.equal(res.data.status, "pending");
// Listing one's invitations needs a verified address (this member's is not).
res = await member.organization.listUserInvitations();
assert.equal(res.error.status, 403, JSON.stringify(res.error));
assert.equal(res.error.code, "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION");
res = await outsider.organization.acceptInvitation({ invitationId });
assert.equal(res.error.status, 403, JSON.stringify(res.error));
res = await member.organization.getInvitation({ query: { id: invitationId } });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.organizationName, "Acme Inc");
res = await member.organization.acceptInvitation({ invitationId });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.member.role, "member");
res = await member.organization.acceptInvitation({ invitationId });
assert.ok(res.error.status >= 400, JSON.stringify(res.error));
res = await member.getSession();
assert.equal(res.data.session.activeOrganizationId, orgId);
res = await member.organization.getActiveMember();
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.role, "member");
step("organization.inviteMember + acceptInvitation (single-use, bound to the email, active)");

res = await member.organization.hasPermission({ permissions: { member: ["create"] } });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.success, false);
res = await owner.organization.hasPermission({ permissions: { member: ["create"], organization: ["update"] } });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.success, true);
res = await owner.organization.listMembers();
assert.equal(res.error, null, JSON.stringify(res.error));
const memberRow = res.data.members.find((m) => m.user.email === memberEmail);
res = await member.organization.updateMemberRole({ memberId: memberRow.id, role: "admin" });
assert.equal(res.error.status, 403, JSON.stringify(res.error));
res = await owner.organization.updateMemberRole({ memberId: memberRow.id, role: "admin" });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.role, "admin");
step("organization.hasPermission + listMembers + updateMemberRole");

res = await outsider.organization.getFullOrganization({ query: { organizationId: orgId } });
assert.ok(res.error && res.error.status >= 400, JSON.stringify(res.error));
res = await outsider.organization.listMembers({ query: { organizationId: orgId } });
assert.ok(res.error && res.error.status >= 400, JSON.stringify(res.error));
res = await outsider.organization.setActive({ organizationId: orgId });
assert.ok(res.error && res.error.status >= 400, JSON.stringify(res.error));
step("an outsider reads nothing of the organization");

res = await owner.organization.inviteMember({ email: `later-${stamp}@example.com`, role: "member" });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await owner.organization.cancelInvitation({ invitationId: res.data.id });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.status, "canceled");
res = await owner.organization.inviteMember({ email: `outsider-${stamp}@example.com`, role: "member" });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await outsider.organization.rejectInvitation({ invitationId: res.data.id });
assert.equal(res.error, null, JSON.stringify(res.error));
assert.equal(res.data.invitation.status, "rejected");
res = await owner.organization.listInvitations();
assert.equal(res.error, null, JSON.stringify(res.error));
step("organization.cancelInvitation + rejectInvitation + listInvitations");

res = await owner.organization.leave({ organizationId: orgId });
assert.equal(res.error.status, 400, JSON.stringify(res.error));
res = await member.organization.leave({ organizationId: orgId });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await member.organization.getFullOrganization({ query: { organizationId: orgId } });
assert.ok(res.error && res.error.status >= 400, JSON.stringify(res.error));
res = await owner.organization.delete({ organizationId: orgId });
assert.equal(res.error, null, JSON.stringify(res.error));
res = await owner.organization.setActive({ organizationId: null });
assert.equal(res.error, null, JSON.stringify(res.error));
step("the last owner cannot leave; a member leaves; organization.delete");

console.log("the official organization client works against this server");
