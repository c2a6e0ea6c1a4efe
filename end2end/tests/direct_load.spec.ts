import { expect, Page, test } from "@playwright/test";
import { join } from "node:path";
import { addUser, confirmDialog, hydrated, setupUrl, signIn, startReceiver } from "./support";

// Every console page opened by its URL (a shared link, a reload), not reached
// by clicking through: the server renders it, the browser parses that HTML,
// and the wasm app must hydrate exactly what the parser built. Each page must
// load without any browser error and then answer a click, which only a
// hydrated page does without a full reload.
//
// Runs on a fresh server, or after console.spec.ts on the same one: it sets up
// the admin only when no admin exists yet, and names its own data.
test.describe.configure({ mode: "serial" });

const base = "http://127.0.0.1:3100";
const admin = { email: "admin@example.com", password: "a long admin password" };
const viewer = { email: "direct-viewer@example.com", password: "a long viewer password" };
const shots = join(__dirname, "..", "test-results", "screenshots");
const adminState = join(__dirname, "..", "test-results", "direct-load-admin.json");
const viewerState = join(__dirname, "..", "test-results", "direct-load-viewer.json");
/** The receiver's own credential, sent as a custom header: a secret viewers must not see. */
const headerSecret = "receiver-credential-direct-5e2a";
/** What viewers get instead of a secret (app::console::SECRET_MASK). */
const mask = "••••••••";

// What the first test builds, for the pages the others open.
const data = {
  apiKey: "",
  hookId: "",
  signingKey: "",
  /** A delivery whose first attempt failed (500). */
  failedDelivery: "",
  /** A delivery that succeeded at once. */
  deliveredDelivery: "",
  /** The Idempotency-Key the delivered delivery's event came with. */
  idempotencyKey: "direct-load-order-1001",
};

/** Opens `path` by its full URL, as a fresh load, and waits for hydration. */
async function directLoad(page: Page, path: string) {
  await page.goto(base + path);
  await hydrated(page);
  // Anything that happens on this document from now on is the app's doing: a
  // full page load would drop this mark.
  await page.evaluate(() => ((window as any).sameDocument = true));
}

/** True while no full page load happened since `directLoad`. */
async function sameDocument(page: Page) {
  return page.evaluate(() => (window as any).sameDocument === true);
}

/** Full-page screenshots at desktop and phone width; at both, nothing may stick out sideways. */
async function screenshots(page: Page, name: string) {
  for (const [width, height, label] of [
    [1360, 900, "desktop"],
    [390, 844, "phone"],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: join(shots, `direct-${name}-${label}.png`), fullPage: true });
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, `${name} is wider than the ${label} screen`).toBeLessThanOrEqual(width);
  }
  await page.setViewportSize({ width: 1360, height: 900 });
}

// Any error the browser reports fails the test: a console error, an uncaught
// exception (`pageerror`, where a wasm `unreachable` lands), or a panic message
// at any level. `allowedErrors` lets one test expect a specific answer.
let pageErrors: string[] = [];
let allowedErrors: RegExp[] = [];
test.beforeEach(({ page }) => {
  pageErrors = [];
  allowedErrors = [];
  page.on("pageerror", (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    const text = message.text();
    const panic = /panicked|unreachable|RuntimeError/.test(text);
    if ((message.type() === "error" || panic) && !allowedErrors.some((allowed) => allowed.test(text))) {
      pageErrors.push(`console.${message.type()}: ${text}`);
    }
  });
});
test.afterEach(() => {
  expect(pageErrors, "errors in the browser console").toEqual([]);
});

test("the sign-in page, opened directly, signs in; the data for the other pages", async ({ page, request }) => {
  // Sign-in and setup are plain HTML forms: no wasm, the server redirects.
  const wasm: string[] = [];
  page.on("request", (sent) => {
    if (sent.url().endsWith(".wasm")) wasm.push(sent.url());
  });
  await page.goto(base + "/sign-in");
  if (await page.getByText("No admin exists yet").isVisible()) {
    // A fresh server: its setup page, opened directly, creates the admin.
    await page.goto(setupUrl());
    await screenshots(page, "setup");
    expect(wasm, "the setup page loads no wasm").toEqual([]);
    await page.getByLabel("Email", { exact: true }).fill(admin.email);
    await page.getByLabel("Password", { exact: true }).fill(admin.password);
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    await expect(page.getByRole("heading", { name: "Overview", exact: true })).toBeVisible();
    await hydrated(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in$/);
  }
  await page.goto(base + "/sign-in");
  wasm.length = 0;
  await page.reload();
  await screenshots(page, "sign-in");
  // A wrong password comes back to the page, said beside the form.
  await page.getByLabel("Email", { exact: true }).fill(admin.email);
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("wrong email or password");
  await expect(page).toHaveURL(/\/sign-in\?/);
  expect(wasm, "the sign-in page loads no wasm").toEqual([]);
  await page.getByLabel("Email", { exact: true }).fill(admin.email);
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview", exact: true })).toBeVisible();
  await expect(page).toHaveURL(base + "/");
  await hydrated(page);
  await page.context().storageState({ path: adminState });

  // An API key, a second user (a viewer), through the console.
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name", { exact: true }).fill("direct-load");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("new-api-key")).toHaveText(/^hkl_[0-9A-Za-z]{40}$/);
  data.apiKey = (await page.getByTestId("new-api-key").textContent()) ?? "";
  await addUser(page, viewer, "viewer");

  // A custom event type, a hook with a secret header, and deliveries with attempts.
  const api = { authorization: `Bearer ${data.apiKey}` };
  const type = await request.post(base + "/api/event-types", {
    headers: api,
    data: { name: "Invoice.Settled", description: "An invoice was settled" },
  });
  expect(type.status()).toBe(201);
  const receiver = await startReceiver("/hooks/direct");
  try {
    const hook = await request.post(base + "/api/hooks", {
      headers: api,
      data: {
        name: "Direct load",
        events: ["PostRegister", "PostSignIn", "Invoice.Settled"],
        config: { url: receiver.url, headers: { "X-Api-Key": headerSecret } },
      },
    });
    expect(hook.status()).toBe(201);
    const created = await hook.json();
    data.hookId = created.id;
    data.signingKey = created.signingKey;

    const deliveryOf = async (body: object, headers: Record<string, string> = {}) => {
      const answer = await request.post(base + "/api/events", { headers: { ...api, ...headers }, data: body });
      expect(answer.status()).toBe(202);
      const { id } = await answer.json();
      let delivery: any;
      await expect
        .poll(async () => {
          const event = await (await request.get(base + `/api/events/${id}`, { headers: api })).json();
          delivery = event.deliveries.find((d: any) => d.hookId === data.hookId);
          return delivery?.state;
        })
        .toMatch(/delivered|failed/);
      return delivery.id as string;
    };
    receiver.script.push({ status: 500, body: "receiver down for maintenance" });
    data.failedDelivery = await deliveryOf({ event: "PostRegister", userId: "u1" });
    data.deliveredDelivery = await deliveryOf(
      { event: "PostSignIn", userId: "u2" },
      { "idempotency-key": data.idempotencyKey },
    );
    await deliveryOf({ event: "Invoice.Settled", invoiceId: "inv_1" });
    expect(receiver.received.length).toBe(3);
  } finally {
    receiver.close();
  }
  // The viewer's session, for the viewer's pages.
  const viewerContext = await page.context().browser()!.newContext();
  const viewerPage = await viewerContext.newPage();
  await signIn(viewerPage, viewer);
  await viewerContext.storageState({ path: viewerState });
  await viewerContext.close();
});

test.describe("an admin opens each page directly", () => {
  test.use({ storageState: adminState });

  test("overview: figures that follow new attempts without a reload", async ({ page, request }) => {
    await directLoad(page, "/");
    const figures = page.getByTestId("overview-figures");
    await expect(figures).toBeVisible();
    await expect(page.getByRole("img", { name: "Requests over time" })).toBeVisible();
    await screenshots(page, "overview");
    const lastHour = figures.locator(".stat-value").first();
    const before = Number(await lastHour.textContent());
    expect(before).toBeGreaterThanOrEqual(3);
    // The receiver is gone: the attempt fails to connect, but it is logged,
    // and the page hears of it on its live stream.
    await request.post(base + "/api/events", {
      headers: { authorization: `Bearer ${data.apiKey}` },
      data: { event: "PostSignIn", userId: "u3" },
    });
    // At least one more: retries of other tests' deliveries may land too.
    await expect.poll(async () => Number(await lastHour.textContent())).toBeGreaterThan(before);
    await page.getByRole("link", { name: "Webhooks", exact: true }).first().click();
    await expect(page.getByRole("heading", { name: "Webhooks", exact: true })).toBeVisible();
    expect(await sameDocument(page)).toBe(true);
  });

  test("webhooks", async ({ page }) => {
    await directLoad(page, "/webhooks");
    await expect(page.locator("tbody tr", { hasText: "Direct load" })).toContainText("PostRegister");
    await screenshots(page, "webhooks");
    await page.getByRole("link", { name: "Create webhook" }).click();
    await expect(page.getByRole("heading", { name: "Create webhook", exact: true })).toBeVisible();
    expect(await sameDocument(page)).toBe(true);
  });

  test("new webhook", async ({ page }) => {
    await directLoad(page, "/webhooks/new");
    await expect(page.getByLabel("All Custom events", { exact: true })).toBeVisible();
    await screenshots(page, "new-webhook");
    // Only the hydrated form checks a whole group.
    await page.getByLabel("All User events", { exact: true }).check();
    await expect(page.getByLabel("User.Deleted", { exact: true })).toBeChecked();
    await page.getByRole("button", { name: "Add header" }).click();
    await expect(page.getByLabel("Header name", { exact: true })).toBeVisible();
  });

  test("webhook settings", async ({ page }) => {
    await directLoad(page, `/webhooks/${data.hookId}`);
    await expect(page.getByRole("heading", { name: "Direct load", exact: true })).toBeVisible();
    await expect(page.getByLabel("Header value", { exact: true })).toHaveValue(headerSecret);
    await expect(page.getByLabel("Invoice.Settled", { exact: true })).toBeChecked();
    await screenshots(page, "webhook");
    const key = page.getByTestId("signing-key");
    await expect(key).toHaveText(/^•+$/);
    await page.getByRole("button", { name: "Reveal" }).click();
    await expect(key).toHaveText(data.signingKey);
    await page.getByRole("button", { name: "Hide" }).click();
    // The receiver is gone by now: the test send fails to connect, and says so.
    await page.getByTestId("send-test").click();
    await expect(page.getByTestId("test-result")).toContainText("ms");
    expect(await sameDocument(page)).toBe(true);
  });

  test("webhook requests", async ({ page }) => {
    await directLoad(page, `/webhooks/${data.hookId}/requests`);
    const rows = page.getByTestId("requests-table").locator("tbody tr");
    await expect(rows.first()).toBeVisible();
    await screenshots(page, "requests");
    await page.getByTestId("recover-since").fill(new Date(Date.now() - 3600_000).toISOString().slice(0, 16));
    await page.getByRole("button", { name: "Find failed deliveries" }).click();
    await expect(page.getByTestId("recover-count")).toContainText("will be resent");
    expect(await sameDocument(page)).toBe(true);
  });

  test("a delivery: Resend works and the new attempt appears", async ({ page }) => {
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await directLoad(page, `/deliveries/${data.failedDelivery}`);
    await expect(page.getByTestId("delivery-state")).toHaveText("Failed");
    await expect(page.getByTestId("delivery-hook")).toHaveText("Direct load");
    await expect(page.getByTestId("webhook-id")).toContainText(data.failedDelivery);
    await expect(page.getByTestId("idempotency-key")).toHaveCount(0);
    // The exact request as a shell command, signature included.
    await page.getByRole("button", { name: "Copy as curl" }).click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    expect(curl).toMatch(/^curl -X POST 'http:\/\/127\.0\.0\.1:\d+\/hooks\/direct'/);
    expect(curl).toContain(`-H 'webhook-id: ${data.failedDelivery}'`);
    expect(curl).toContain("-H 'logto-signature-sha-256: ");
    expect(curl.toLowerCase()).toContain(`-h 'x-api-key: ${headerSecret}'`);
    await expect(page.getByTestId("attempt")).toHaveCount(1);
    await expect(page.getByTestId("attempt").first()).toContainText("receiver down for maintenance");
    await page.getByTestId("attempt").first().locator("summary").first().click();
    await expect(page.getByTestId("attempt").first()).toContainText(headerSecret);
    await screenshots(page, "delivery");
    // The receiver is gone by now: the new attempt fails to connect, but it is there.
    await page.getByTestId("resend").click();
    await expect(page.getByTestId("attempt-count")).toHaveText("2");
    await expect(page.getByTestId("attempt")).toHaveCount(2);
    await expect(page.getByTestId("attempt").first()).toContainText("manual");
    expect(await sameDocument(page)).toBe(true);
    await screenshots(page, "delivery-resent");
  });

  test("a delivered delivery", async ({ page }) => {
    await directLoad(page, `/deliveries/${data.deliveredDelivery}`);
    await expect(page.getByTestId("delivery-state")).toHaveText("Delivered");
    await expect(page.getByTestId("idempotency-key")).toHaveText(data.idempotencyKey);
    await page.getByRole("link", { name: "← Requests" }).click();
    await expect(page.getByTestId("requests-table")).toBeVisible();
    expect(await sameDocument(page)).toBe(true);
  });

  test("event catalog", async ({ page }) => {
    await directLoad(page, "/events");
    await expect(page.getByTestId("type-Invoice.Settled")).toContainText("Custom");
    await screenshots(page, "catalog");
    const row = page.getByTestId("type-PostSignIn");
    await row.getByRole("button", { name: "Send sample event" }).click();
    await expect(row.getByTestId("sample-result")).toContainText("webhook");
    expect(await sameDocument(page)).toBe(true);
  });

  test("API keys", async ({ page }) => {
    await directLoad(page, "/api-keys");
    await expect(page.locator("tbody tr", { hasText: "direct-load" })).toBeVisible();
    await screenshots(page, "api-keys");
    await page.getByLabel("New key name", { exact: true }).fill("direct-load-2");
    await page.getByRole("button", { name: "Create key" }).click();
    await expect(page.getByTestId("new-api-key")).toHaveText(/^hkl_/);
    expect(await sameDocument(page)).toBe(true);
  });

  test("users", async ({ page }) => {
    await directLoad(page, "/users");
    await expect(page.locator("tbody tr", { hasText: viewer.email })).toContainText("viewer");
    await screenshots(page, "users");
    await page.getByLabel("Email", { exact: true }).fill("direct-extra@example.com");
    await page.getByLabel("Password", { exact: true }).fill("another long password");
    await page.getByRole("button", { name: "Add user" }).click();
    await expect(page.locator("tbody tr", { hasText: "direct-extra@example.com" })).toBeVisible();
    expect(await sameDocument(page)).toBe(true);
  });

  test("settings", async ({ page }) => {
    await directLoad(page, "/settings");
    const effective = page.getByTestId("retention-effective");
    await expect(effective).toHaveText(/^\d+ days?$/);
    await screenshots(page, "settings");
    // Saves the window in force, so later tests see the same.
    const days = ((await effective.textContent()) ?? "").split(" ")[0];
    await page.getByLabel("Keep the log for (days)").fill(days);
    await page.getByRole("button", { name: "Save" }).click();
    await expect(effective).toHaveText(`${days} days`);
    expect(await sameDocument(page)).toBe(true);
  });

  test("a page that does not exist", async ({ page }) => {
    // The document's own 404 is the answer expected here.
    allowedErrors = [/status of 404/];
    await directLoad(page, "/no-such-page");
    await expect(page.getByText("There is nothing at this address.")).toBeVisible();
    await screenshots(page, "not-found");
    await page.getByRole("link", { name: "Back to webhooks" }).click();
    await expect(page.getByRole("heading", { name: "Webhooks", exact: true })).toBeVisible();
    expect(await sameDocument(page)).toBe(true);
  });
});

test.describe("a viewer opens each page directly", () => {
  test.use({ storageState: viewerState });

  for (const [name, path] of [
    ["overview", () => "/"],
    ["webhooks", () => "/webhooks"],
    ["new-webhook", () => "/webhooks/new"],
    ["requests", () => `/webhooks/${data.hookId}/requests`],
    ["catalog", () => "/events"],
    ["api-keys", () => "/api-keys"],
    ["users", () => "/users"],
    ["settings", () => "/settings"],
  ] as const) {
    test(name, async ({ page }) => {
      await directLoad(page, path());
      await expect(page.locator(".topbar")).toContainText(viewer.email);
      await page.getByRole("link", { name: "Event catalog" }).click();
      await expect(page.getByTestId("catalog")).toBeVisible();
      expect(await sameDocument(page)).toBe(true);
    });
  }

  test("a webhook shows no signing key and no header values", async ({ page }) => {
    await directLoad(page, `/webhooks/${data.hookId}`);
    await expect(page.getByRole("heading", { name: "Direct load", exact: true })).toBeVisible();
    await expect(page.getByTestId("signing-key-admins-only")).toHaveText(
      "Only admins can see the signing key and custom header values.",
    );
    await expect(page.getByTestId("signing-key")).toHaveCount(0);
    await expect(page.getByTestId("signing-key-whsec")).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Reveal" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Copy" })).toHaveCount(1); // the hook's id
    await expect(page.getByRole("button", { name: "Rotate key" })).toHaveCount(0);
    await expect(page.getByLabel("Header name", { exact: true })).toHaveValue("X-Api-Key");
    await expect(page.getByLabel("Header value", { exact: true })).toHaveValue(mask);
    await expect(page.getByTestId("header-values-admins-only")).toBeVisible();
    // Nowhere in the document either, the data the server inlined included.
    const html = await page.content();
    expect(html).not.toContain(data.signingKey);
    expect(html).not.toContain(headerSecret);
    await screenshots(page, "viewer-webhook");
    await page.locator("nav.tabs").getByRole("link", { name: "Requests" }).click();
    await expect(page.getByTestId("requests-table")).toBeVisible();
    expect(await sameDocument(page)).toBe(true);
  });

  test("a delivery shows no header values and no Resend", async ({ page }) => {
    await directLoad(page, `/deliveries/${data.failedDelivery}`);
    await expect(page.getByTestId("attempt").first()).toBeVisible();
    await expect(page.getByTestId("resend")).toHaveCount(0);
    const attempt = page.getByTestId("attempt").last();
    await attempt.locator("summary").first().click();
    await expect(attempt.locator("tr", { hasText: /x-api-key/i })).toContainText(mask);
    await expect(attempt.locator("tr", { hasText: "webhook-signature" })).toContainText("v1,");
    const html = await page.content();
    expect(html).not.toContain(headerSecret);
    expect(html).not.toContain(data.signingKey);
    await screenshots(page, "viewer-delivery");
    await page.getByRole("link", { name: "← Requests" }).click();
    await expect(page.getByTestId("requests-table")).toBeVisible();
    expect(await sameDocument(page)).toBe(true);
  });
});
