import { expect, Page, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

// One story, in order: the server starts empty, so each step builds on the last.
test.describe.configure({ mode: "serial" });

const admin = { email: "admin@example.com", password: "a long admin password" };
const viewer = { email: "viewer@example.com", password: "a long viewer password" };
const shots = join(__dirname, "..", "test-results", "screenshots");

function setupUrl(): string {
  const log = readFileSync(join(__dirname, "..", "test-results", "server.log"), "utf8");
  const match = log.match(/http:\/\/\S+\/setup\?token=\w+/);
  if (!match) throw new Error(`no setup link in the server log:\n${log}`);
  return match[0];
}

async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto("/sign-in");
  await page.getByLabel("Email", { exact: true }).fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Webhooks", exact: true })).toBeVisible();
}

/** Waits until the wasm app has hydrated, so clicks reach Rust handlers. */
async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
}

async function confirmDialog(page: Page, button: string) {
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: button }).click();
  await expect(dialog).toBeHidden();
}

// Whatever the browser reports as an error fails the test that caused it.
let pageErrors: string[] = [];
test.beforeEach(({ page }) => {
  pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    // 4xx answers are the server refusing bad input, which tests provoke on purpose.
    const refused = /^Failed to load resource: the server responded with a status of 4\d\d/;
    if (message.type() === "error" && !refused.test(message.text())) pageErrors.push(message.text());
  });
});
test.afterEach(() => {
  expect(pageErrors, "errors in the browser console").toEqual([]);
});

test("an anonymous visitor is sent to sign in", async ({ page }) => {
  await page.goto("/webhooks");
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByText("No admin exists yet")).toBeVisible();
});

test("first-run setup creates the admin and signs in", async ({ page }) => {
  await page.goto(setupUrl());
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(admin.email);
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect(page.getByRole("heading", { name: "Webhooks", exact: true })).toBeVisible();
  await expect(page.getByText("No webhooks yet")).toBeVisible();
  await expect(page.locator(".topbar")).toContainText(admin.email);
});

test("an admin creates, edits, rotates, disables, re-enables and deletes a hook", async ({ page }) => {
  await signIn(page, admin);
  await hydrated(page);
  await page.getByRole("link", { name: "Create webhook" }).click();
  await expect(page.getByRole("heading", { name: "Create webhook", exact: true })).toBeVisible();

  // Errors appear beside their field, and nothing is created.
  await page.getByRole("button", { name: "Create webhook" }).click();
  await expect(page.locator(".field-error")).toContainText("name must not be empty");

  await page.getByLabel("Name", { exact: true }).fill("CRM sync");
  await page.getByLabel("Endpoint URL", { exact: true }).fill("ftp://crm.example.com/hooks");
  await page.getByLabel("All User events", { exact: true }).check();
  await page.getByLabel("All Role events", { exact: true }).check();
  await expect(page.getByLabel("User.Deleted", { exact: true })).toBeChecked();
  await expect(page.getByLabel("PostSignIn", { exact: true })).not.toBeChecked();
  await page.getByRole("button", { name: "Create webhook" }).click();
  await expect(page.locator(".field-error")).toContainText("http:// or https://");

  await page.getByLabel("Endpoint URL", { exact: true }).fill("https://crm.example.com/hooks");
  await page.getByRole("button", { name: "Add header" }).click();
  await page.getByLabel("Header name", { exact: true }).fill("X-Tenant");
  await page.getByLabel("Header value", { exact: true }).fill("acme");
  await page.getByRole("button", { name: "Create webhook" }).click();

  await expect(page.getByRole("heading", { name: "CRM sync", exact: true })).toBeVisible();
  await expect(page).toHaveURL(/\/webhooks\/[a-z0-9]{21}$/);
  await expect(page.getByText("Enabled", { exact: true })).toBeVisible();

  // Listed with its events and 24 h figures.
  await page.getByRole("link", { name: "← Webhooks" }).click();
  const row = page.locator("tbody tr", { hasText: "CRM sync" });
  await expect(row).toContainText("User.Created");
  await expect(row).toContainText("+6");
  await expect(row).toContainText("No requests yet");
  await expect(row).toContainText("Enabled");
  await page.screenshot({ path: join(shots, "webhooks-list.png"), fullPage: true });

  // Edit its events: drop the Role group, add one Organization event.
  await row.getByRole("link", { name: "CRM sync" }).click();
  await expect(page.getByRole("heading", { name: "CRM sync", exact: true })).toBeVisible();
  await page.getByLabel("All Role events", { exact: true }).uncheck();
  await page.getByLabel("Organization.Created", { exact: true }).check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.locator(".figure", { hasText: "Events" })).toContainText("5");
  await page.reload();
  await expect(page.getByLabel("Organization.Created", { exact: true })).toBeChecked();
  await expect(page.getByLabel("Role.Created", { exact: true })).not.toBeChecked();
  await expect(page.getByLabel("Header name", { exact: true })).toHaveValue("X-Tenant");

  // Reveal, then rotate the signing key.
  await hydrated(page);
  const key = page.getByTestId("signing-key");
  await expect(key).toHaveText(/^•+$/);
  await page.getByRole("button", { name: "Reveal" }).click();
  await expect(key).toHaveText(/^[0-9A-Za-z]{32}$/);
  const before = await key.textContent();
  await expect(page.getByTestId("signing-key-whsec")).toHaveText(/^whsec_[A-Za-z0-9+/=]+$/);
  await page.getByRole("button", { name: "Rotate key" }).click();
  await confirmDialog(page, "Rotate key");
  await page.getByRole("button", { name: "Reveal" }).click();
  await expect(key).toHaveText(/^[0-9A-Za-z]{32}$/);
  await expect(key).not.toHaveText(before!);
  await page.getByRole("button", { name: "Hide" }).click();
  await page.screenshot({ path: join(shots, "webhook-details.png"), fullPage: true });

  // Disable, then enable again.
  await page.getByRole("button", { name: "Disable" }).click();
  await confirmDialog(page, "Disable");
  await expect(page.locator(".title-line .badge")).toHaveText("Disabled");
  await expect(page.locator(".figure", { hasText: "Success rate" })).toContainText("Not in use");
  await page.getByRole("button", { name: "Enable" }).click();
  await confirmDialog(page, "Enable");
  await expect(page.locator(".title-line .badge")).toHaveText("Enabled");

  // Delete, after confirming.
  await page.getByRole("button", { name: "Delete" }).click();
  await confirmDialog(page, "Delete webhook");
  await expect(page).toHaveURL(/\/webhooks$/);
  await expect(page.getByText("No webhooks yet")).toBeVisible();
});

test("an admin adds a viewer and an API key, and signs out", async ({ page }) => {
  await signIn(page, admin);
  await hydrated(page);
  // A hook for the viewer to look at.
  await page.getByRole("link", { name: "Create webhook" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Audit log");
  await page.getByLabel("Endpoint URL", { exact: true }).fill("https://audit.example.com/in");
  await page.getByLabel("All Security events", { exact: true }).check();
  await page.getByRole("button", { name: "Create webhook" }).click();
  await expect(page.getByRole("heading", { name: "Audit log", exact: true })).toBeVisible();

  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Email", { exact: true }).fill(viewer.email);
  await page.getByLabel("Password", { exact: true }).fill(viewer.password);
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.locator("tbody tr", { hasText: viewer.email })).toContainText("viewer");

  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name", { exact: true }).fill("logto-production");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("new-api-key")).toHaveText(/^hkl_[0-9A-Za-z]{40}$/);
  await expect(page.locator("tbody tr", { hasText: "logto-production" })).toContainText("Never");
  await page.screenshot({ path: join(shots, "api-keys.png"), fullPage: true });

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto("/webhooks");
  await expect(page).toHaveURL(/\/sign-in$/);
});

test("a viewer sees hooks but cannot create or change them", async ({ page }) => {
  await signIn(page, viewer);
  await expect(page.locator("tbody tr", { hasText: "Audit log" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Create webhook" })).toHaveCount(0);

  await page.locator("tbody tr", { hasText: "Audit log" }).getByRole("link").first().click();
  await expect(page.getByRole("heading", { name: "Audit log", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Delete" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Disable" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Rotate key" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Save changes" })).toHaveCount(0);
  await expect(page.getByLabel("Name", { exact: true })).toBeDisabled();

  await page.goto("/webhooks/new");
  await expect(page.getByRole("button", { name: "Create webhook" })).toHaveCount(0);
  await page.goto("/api-keys");
  await expect(page.getByRole("button", { name: "Create key" })).toHaveCount(0);
});
