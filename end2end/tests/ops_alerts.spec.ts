import { expect, test } from "@playwright/test";
import { join } from "node:path";
import { addUser, confirmDialog, hydrated, ingester, signIn, startReceiver, createApiKey } from "./support";

// Alerts through the console (named to run after console.spec.ts, which
// starts from a fresh server): an admin turns them on in Settings (a bad
// field is named), a failing hook raises `hook.failing` at the operations
// endpoint, the incident is listed and bannered on the hook's page, a viewer
// reads the settings without a form, and the admin turns alerts off.

const admin = { email: "admin@example.com", password: "a long admin password" };
const viewer = { email: "alerts-viewer@example.com", password: "a long viewer password" };
const shots = join(__dirname, "..", "test-results", "screenshots");

let pageErrors: string[] = [];
test.beforeEach(({ page }) => {
  pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    // The refused save below is the server's 400, on purpose.
    if (message.type() === "error" && !/status of 400/.test(message.text())) pageErrors.push(message.text());
  });
});
test.afterEach(() => {
  expect(pageErrors, "errors in the browser console").toEqual([]);
});

async function screenshots(page: import("@playwright/test").Page, name: string) {
  for (const [width, height, label] of [
    [1360, 900, "desktop"],
    [390, 844, "phone"],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: join(shots, `${name}-${label}.png`), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
  }
  await page.setViewportSize({ width: 1360, height: 900 });
}

test("an admin turns alerts on and a failing hook raises one", async ({ page, request }) => {
  test.setTimeout(90_000);
  const ops = await startReceiver("/ops");
  const customer = await startReceiver("/customer");
  try {
    await signIn(page, admin);
    const apiKey = await createApiKey(page, "alerts");
    const hook = await request.post("/api/hooks", {
      headers: { authorization: `Bearer ${apiKey}` },
      data: { name: "Billing sync", events: ["User.Data.Updated"], config: { url: customer.url } },
    });
    expect(hook.status()).toBe(201);
    const hookId = (await hook.json()).id;

    await page.getByRole("link", { name: "Settings" }).click();
    await expect(page.getByTestId("alerts-status")).toHaveText("Off");
    await page.getByLabel("Operations endpoint URL").fill(ops.url);
    await page.getByLabel("Failures in a row").fill("0");
    await page.getByLabel("Failures in a row").evaluate((input: HTMLInputElement) => input.removeAttribute("min"));
    await page.getByRole("button", { name: "Turn alerts on" }).click();
    await expect(page.getByText("consecutiveFailures must be from 1 to 1000").first()).toBeVisible();
    await page.getByLabel("Failures in a row").fill("2");
    await page.getByLabel("Or success under (%)").fill("");
    await page.getByRole("button", { name: "Turn alerts on" }).click();
    await expect(page.getByTestId("alerts-status")).toHaveText("On");
    await expect(page.getByTestId("alerts-url")).toHaveText(ops.url);

    // Two failures in a row (retries are off): one `hook.failing`.
    customer.script.push({ status: 500, body: "down" }, { status: 503, body: "down" });
    const ingest = ingester(request, apiKey);
    await ingest({ event: "User.Data.Updated", userId: "alerts-1" });
    await ingest({ event: "User.Data.Updated", userId: "alerts-2" });
    // With retries off, each failed delivery also ends exhausted: that is
    // `delivery.exhausted`, in no set order with `hook.failing`. Hooks of
    // the specs before, whose receivers are gone, raise theirs too.
    const failing = () =>
      ops.received
        .map((body) => JSON.parse(body))
        .find((a) => a.event === "hook.failing" && a.hook.id === hookId);
    await expect.poll(failing, { timeout: 30_000 }).toBeTruthy();
    const alert = failing();
    expect(alert.hook).toEqual({ id: hookId, name: "Billing sync", url: customer.url });
    expect(alert.reason).toBe("2 attempts in a row failed");

    // Listed, linked to its hook, and bannered on the hook's page.
    await page.goto("/incidents?state=open");
    await hydrated(page);
    const row = page
      .getByTestId("incidents-table")
      .locator("tbody tr", { hasText: "Billing sync" })
      .filter({ hasText: "2 attempts in a row failed" });
    await expect(row).toContainText("Failing");
    await expect(row).toContainText("Open");
    await screenshots(page, "incidents");
    await page.goto(`/webhooks/${hookId}`);
    await hydrated(page);
    await expect(page.getByTestId("incident-banner").filter({ hasText: "Failing" })).toContainText(
      "2 attempts in a row failed",
    );
    await screenshots(page, "webhook-failing");
    await page.goto("/settings");
    await hydrated(page);
    await screenshots(page, "settings-alerts");

    // A viewer reads the settings, without the URL's path or a form.
    await addUser(page, viewer, "viewer");
    const viewerPage = await page.context().browser()!.newPage();
    await signIn(viewerPage, viewer);
    await viewerPage.goto("/settings");
    await hydrated(viewerPage);
    await expect(viewerPage.getByTestId("alerts-status")).toHaveText("On");
    await expect(viewerPage.getByTestId("alerts-url")).toHaveText(/^http:\/\/127\.0\.0\.1:\d+\/••••••••$/);
    await expect(viewerPage.getByLabel("Operations endpoint URL")).toHaveCount(0);
    await viewerPage.close();

    // Off again.
    await page.goto("/settings");
    await hydrated(page);
    await page.getByRole("button", { name: "Turn off" }).click();
    await confirmDialog(page, "Turn off");
    await expect(page.getByTestId("alerts-status")).toHaveText("Off");
  } finally {
    ops.close();
    customer.close();
  }
});
