import { expect, Page, test } from "@playwright/test";
import { join } from "node:path";
import { addUser, confirmDialog, Credentials, hydrated, ingester, setupUrl, signIn, startReceiver } from "./support";

// One story, in order: the server starts empty, so each step builds on the last.
test.describe.configure({ mode: "serial" });

const admin = { email: "admin@example.com", password: "a long admin password" };
const viewer = { email: "viewer@example.com", password: "a long viewer password" };
const shots = join(__dirname, "..", "test-results", "screenshots");
// The API key the admin creates, for sending events as a producer would.
let apiKey = "";

/** Signs in; these tests start from the webhooks list. */
async function signInToWebhooks(page: Page, who: Credentials) {
  await signIn(page, who);
  await page.getByRole("link", { name: "Webhooks", exact: true }).first().click();
  await expect(page.getByRole("heading", { name: "Webhooks", exact: true })).toBeVisible();
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
  // A plain form (the page loads no wasm): the server redirects to the overview.
  await page.goto(setupUrl());
  await page.getByLabel("Email", { exact: true }).fill(admin.email);
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview", exact: true })).toBeVisible();
  await expect(page.getByText("All hooks are healthy.")).toBeVisible();
  await expect(page.locator(".topbar")).toContainText(admin.email);
});

test("an admin creates, edits, rotates, disables, re-enables and deletes a hook", async ({ page }) => {
  await signInToWebhooks(page, admin);
  await hydrated(page);
  await page.getByRole("link", { name: "Create webhook" }).click();
  await expect(page.getByRole("heading", { name: "Create webhook", exact: true })).toBeVisible();
  await expect(page.getByLabel("All Security events", { exact: true })).toBeVisible();
  await page.screenshot({ path: join(shots, "new-webhook.png"), fullPage: true });

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
  // How long its deliveries wait: nothing has been sent to it yet.
  await expect(page.getByTestId("oldest-waiting")).toContainText("none");
  await expect(page.getByTestId("first-attempt-lag")).toContainText("none in the last hour");
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
  await signInToWebhooks(page, admin);
  await hydrated(page);
  // A hook for the viewer to look at.
  await page.getByRole("link", { name: "Create webhook" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Audit log");
  await page.getByLabel("Endpoint URL", { exact: true }).fill("https://audit.example.com/in");
  await page.getByLabel("All Security events", { exact: true }).check();
  await page.getByRole("button", { name: "Create webhook" }).click();
  await expect(page.getByRole("heading", { name: "Audit log", exact: true })).toBeVisible();

  await addUser(page, viewer, "viewer");

  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name", { exact: true }).fill("logto-production");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("new-api-key")).toHaveText(/^hkl_[0-9A-Za-z]{40}$/);
  apiKey = (await page.getByTestId("new-api-key").textContent()) ?? "";
  await expect(page.locator("tbody tr", { hasText: "logto-production" })).toContainText("Never");
  await page.screenshot({ path: join(shots, "api-keys.png"), fullPage: true });

  // Retention: the server's default, then a window of the admin's own.
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByTestId("retention-effective")).toHaveText("14 days");
  await page.getByLabel("Keep the log for (days)").fill("30");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("retention-effective")).toHaveText("30 days");
  await expect(page.getByText("The server's default (--retention) is 14 days.")).toBeVisible();
  await page.screenshot({ path: join(shots, "settings.png"), fullPage: true });

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto("/webhooks");
  await expect(page).toHaveURL(/\/sign-in$/);
});

test("an admin follows a failed delivery, resends it, recovers failures and sends samples", async ({ page, request }) => {
  const receiver = await startReceiver("/hooks/orders");
  const ingest = ingester(request, apiKey);
  try {
    await signInToWebhooks(page, admin);
    await hydrated(page);
    await page.getByRole("link", { name: "Create webhook" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Orders");
    await page.getByLabel("Endpoint URL", { exact: true }).fill(receiver.url);
    await page.getByLabel("All User interaction events", { exact: true }).check();
    await page.getByRole("button", { name: "Create webhook" }).click();
    await expect(page.getByRole("heading", { name: "Orders", exact: true })).toBeVisible();

    // The receiver is down: the first delivery fails (retries are off here).
    receiver.script.push({ status: 500, body: "receiver down for maintenance" });
    await ingest({ event: "PostRegister", userId: "u1" });
    await expect.poll(() => receiver.received.length).toBe(1);

    await page.getByRole("link", { name: "Requests" }).click();
    await hydrated(page);
    const rows = page.getByTestId("requests-table").locator("tbody tr");
    await expect(rows).toHaveCount(1);
    await page.getByLabel("Outcome").selectOption("failed");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(/status=failed/);
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText("500");

    // A delivery's detail: what was sent and what came back.
    await rows.first().getByRole("link").first().click();
    await expect(page.getByTestId("delivery-state")).toHaveText("Failed");
    await expect(page.getByTestId("attempt").first()).toContainText("receiver down for maintenance");
    await expect(page.getByTestId("attempt").first()).toContainText('"event": "PostRegister"');
    await page.screenshot({ path: join(shots, "delivery.png"), fullPage: true });
    await page.getByTestId("resend").click();
    await expect(page.getByTestId("attempt-count")).toHaveText("2");
    await expect(page.getByTestId("delivery-state")).toHaveText("Delivered");
    await expect(page.getByTestId("attempt").first()).toContainText("manual");
    await expect(page.getByTestId("attempt").first()).toContainText("200");

    // New rows arrive without a reload.
    await page.getByRole("link", { name: "← Requests" }).click();
    await expect(rows).toHaveCount(2);
    await page.evaluate(() => ((window as any).stillTheSamePage = true));
    await ingest({ event: "PostSignIn", userId: "u2" });
    await expect(rows).toHaveCount(3);
    expect(await page.evaluate(() => (window as any).stillTheSamePage)).toBe(true);
    await page.screenshot({ path: join(shots, "requests.png"), fullPage: true });

    // Recover: a failure now, then "resend failed since" a minute ago.
    receiver.script.push({ status: 503, body: "busy" });
    await ingest({ event: "PostResetPassword", userId: "u3" });
    await expect(rows).toHaveCount(4);
    const since = new Date(Date.now() - 60_000).toISOString().slice(0, 16);
    await page.getByTestId("recover-since").fill(since);
    await page.getByRole("button", { name: "Find failed deliveries" }).click();
    await expect(page.getByTestId("recover-count")).toHaveText("1 failed delivery will be resent.");
    await page.getByRole("button", { name: "Resend 1" }).click();
    await expect(page.getByTestId("recover-done")).toHaveText("1 resent");
    await expect(rows).toHaveCount(5);

    // The settings tab sends a test payload with the form's values.
    await page.locator("nav.tabs").getByRole("link", { name: "Settings" }).click();
    await hydrated(page);
    await page.getByTestId("send-test").click();
    await expect(page.getByTestId("test-result")).toContainText("200");
    await expect(page.getByTestId("test-result")).toContainText("ok");
    await page.screenshot({ path: join(shots, "test-payload.png"), fullPage: true });

    // The list shows the last day's traffic: 3 of 5 requests succeeded (test sends do not count).
    await page.getByRole("link", { name: "Webhooks", exact: true }).click();
    const orders = page.locator("tbody tr", { hasText: "Orders" });
    await expect(orders).toContainText("60.0 %");
    await expect(orders.locator(".rate-red")).toBeVisible();
    await page.screenshot({ path: join(shots, "webhooks-with-traffic.png"), fullPage: true });

    // The catalog: every type, and a sample event through the real pipeline.
    await page.getByRole("link", { name: "Event catalog" }).click();
    await expect(page.getByTestId("catalog").locator("tbody tr")).toHaveCount(31);
    await page.screenshot({ path: join(shots, "catalog.png"), fullPage: true });
    const row = page.getByTestId("type-PostRegister");
    await row.getByRole("button", { name: "Send sample event" }).click();
    await expect(row.getByTestId("sample-result")).toContainText("Sent to 1 webhook(s)");
    await row.getByTestId("sample-result").getByRole("link").click();
    await expect(page.getByTestId("delivery-state")).toHaveText(/Delivered|Pending/);

    // A custom type: added in the catalog, offered in a hook's settings.
    await page.getByRole("link", { name: "Event catalog" }).click();
    await hydrated(page);
    const form = page.getByTestId("new-type");
    await form.getByLabel("Name").fill("Order.Paid");
    await form.getByLabel("Description").fill("An order was paid");
    await form.getByLabel("JSON Schema (optional)").fill('{"type": "object", "required": ["orderId"]}');
    await form.getByRole("button", { name: "Add event type" }).click();
    await expect(page.getByTestId("type-Order.Paid")).toContainText("Custom");
    await page.getByRole("link", { name: "Webhooks", exact: true }).click();
    await page.getByRole("link", { name: "Orders", exact: true }).click();
    await expect(page.getByLabel("All Custom events", { exact: true })).toBeVisible();
  } finally {
    receiver.close();
  }
});

test("a viewer sees hooks but cannot create or change them", async ({ page }) => {
  await signInToWebhooks(page, viewer);
  await expect(page.locator("tbody tr", { hasText: "Audit log" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Create webhook" })).toHaveCount(0);

  await page.locator("tbody tr", { hasText: "Audit log" }).getByRole("link").first().click();
  await expect(page.getByRole("heading", { name: "Audit log", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Delete" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Disable" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Rotate key" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Save changes" })).toHaveCount(0);
  await expect(page.getByLabel("Name", { exact: true })).toBeDisabled();

  // The request log is theirs to read, not to act on.
  await page.getByRole("link", { name: "Webhooks", exact: true }).click();
  await page.getByRole("link", { name: "Orders", exact: true }).click();
  await page.getByRole("link", { name: "Requests" }).click();
  await expect(page.getByTestId("requests-table").locator("tbody tr").first()).toBeVisible();
  await expect(page.getByRole("button", { name: "Find failed deliveries" })).toHaveCount(0);
  await page.getByTestId("requests-table").locator("tbody tr").first().getByRole("link").first().click();
  await expect(page.getByTestId("attempt").first()).toBeVisible();
  await expect(page.getByTestId("resend")).toHaveCount(0);
  await expect(page.getByTestId("send-test")).toHaveCount(0);

  await page.goto("/webhooks/new");
  await expect(page.getByRole("button", { name: "Create webhook" })).toHaveCount(0);
  await page.goto("/api-keys");
  await expect(page.getByRole("button", { name: "Create key" })).toHaveCount(0);
  await page.goto("/settings");
  await expect(page.getByTestId("retention-effective")).toHaveText("30 days");
  await expect(page.getByRole("button", { name: "Save" })).toHaveCount(0);
});

test("an admin filters a hook's events, tries the filter, and only matching events are delivered", async ({ page, request }) => {
  const receiver = await startReceiver("/hooks/filtered");
  const ingest = ingester(request, apiKey);
  try {
    await signInToWebhooks(page, admin);
    await hydrated(page);
    await page.getByRole("link", { name: "Create webhook" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Filtered");
    await page.getByLabel("Endpoint URL", { exact: true }).fill(receiver.url);
    await page.getByLabel("PostRegister", { exact: true }).check();

    // A mistake is shown beside the field, with its path, before anything is sent.
    const filter = page.getByLabel("Payload filter", { exact: true });
    await filter.fill('{"userId": {"$like": "keep-%"}}');
    await page.getByRole("button", { name: "Create webhook" }).click();
    await expect(page.locator(".field-error")).toContainText("userId.$like");

    // "Try it" evaluates the filter in the browser and says why not.
    await filter.fill('{"userId": {"$startsWith": "keep-"}}');
    await page.getByText("Try it", { exact: true }).click();
    const body = page.getByLabel("Event body to try", { exact: true });
    await body.fill('{"event": "PostRegister", "userId": "drop-1"}');
    await page.getByRole("button", { name: "Try filter" }).click();
    await expect(page.getByTestId("filter-verdict")).toContainText("No match");
    await expect(page.getByTestId("filter-verdict")).toContainText("userId");
    await body.fill('{"event": "PostRegister", "userId": "keep-1"}');
    await page.getByRole("button", { name: "Try filter" }).click();
    await expect(page.getByTestId("filter-verdict")).toContainText("Match");
    await page.screenshot({ path: join(shots, "filter.png"), fullPage: true });

    await page.getByRole("button", { name: "Create webhook" }).click();
    await expect(page.getByRole("heading", { name: "Filtered", exact: true })).toBeVisible();
    await expect(page.getByLabel("Payload filter", { exact: true })).toHaveValue(/keep-/);

    // Only the matching event makes a delivery to this hook (other hooks of
    // the story listen to PostRegister too), and so a request row.
    const dropped = (await ingest({ event: "PostRegister", userId: "drop-1" })).deliveries;
    const kept = (await ingest({ event: "PostRegister", userId: "keep-1" })).deliveries;
    expect(kept - dropped).toBe(1);
    await expect.poll(() => receiver.received.length).toBe(1);
    expect(receiver.received[0]).toContain("keep-1");
    await page.getByRole("link", { name: "Requests" }).click();
    await hydrated(page);
    await expect(page.getByTestId("requests-table").locator("tbody tr")).toHaveCount(1);
  } finally {
    receiver.close();
  }
});

test("an admin creates an ordered hook with its own schedule; it waits on a failing delivery until skipped, then the rest arrive in order", async ({ page, request }) => {
  const receiver = await startReceiver("/hooks/ledger");
  const ingest = ingester(request, apiKey);
  try {
    await signInToWebhooks(page, admin);
    await hydrated(page);
    await page.getByRole("link", { name: "Create webhook" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Ledger");
    await page.getByLabel("Endpoint URL", { exact: true }).fill(receiver.url);
    await page.getByLabel("PostSignIn", { exact: true }).check();
    await page.getByLabel("Payload filter", { exact: true }).fill('{"userId": {"$startsWith": "led-"}}');
    await page.getByLabel("Ordered delivery", { exact: true }).check();
    // The server's schedule is in effect until the hook has its own.
    await expect(page.getByTestId("retry-schedule-source")).toContainText("In effect: the server's schedule");
    // A failed delivery holds the rest back for an hour: long enough to see.
    await page.getByLabel("Retry schedule", { exact: true }).fill("1h");
    await page.getByLabel("Request timeout", { exact: true }).fill("2m");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await expect(page.locator(".field-error")).toContainText("from 1s to 30s");
    await page.getByLabel("Request timeout", { exact: true }).fill("5s");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await expect(page.getByRole("heading", { name: "Ledger", exact: true })).toBeVisible();
    await expect(page.getByLabel("Ordered delivery", { exact: true })).toBeChecked();
    await expect(page.getByLabel("Retry schedule", { exact: true })).toHaveValue("1h");
    await expect(page.getByTestId("retry-schedule-source")).toContainText("Instead of the server's schedule");

    // The first event's delivery fails; the others wait behind it, in order,
    // and an event the filter drops makes no delivery at all.
    receiver.script.push({ status: 500, body: "ledger closed" });
    for (const n of [0, 1, 2, 3]) {
      expect((await ingest({ event: "PostSignIn", userId: `led-${n}` })).deliveries).toBeGreaterThan(0);
    }
    await ingest({ event: "PostSignIn", userId: "other-1" });
    await expect.poll(() => receiver.received.length).toBe(1);
    await page.reload();
    await hydrated(page);
    const held = page.getByTestId("held-delivery");
    await expect(held).toContainText("Ordered delivery is waiting on");
    await expect(held).toContainText("1 failed attempt");
    await expect(held).toContainText("3 more wait behind it");
    expect(receiver.received.length).toBe(1);
    await page.screenshot({ path: join(shots, "ordered-held.png"), fullPage: true });

    await held.getByRole("button", { name: "Skip" }).click();
    await confirmDialog(page, "Skip delivery");
    await expect.poll(() => receiver.received.length).toBe(4);
    const order = receiver.received.map((body) => JSON.parse(body).userId);
    expect(order).toEqual(["led-0", "led-1", "led-2", "led-3"]);
    await expect(held).toBeHidden();
  } finally {
    receiver.close();
  }
});
