import { expect, test } from "@playwright/test";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { hydrated, signIn, startReceiver, createApiKey } from "./support";

// Logto as a source through the console: an admin adds one with a Logto
// webhook's signing key, gets the URL to paste into Logto, and a request
// built as Logto builds it reaches a Hookline hook's receiver.

const admin = { email: "admin@example.com", password: "a long admin password" };
const shots = join(__dirname, "..", "test-results", "screenshots");
const logtoKey = "logto-webhook-signing-key-e2e";

let pageErrors: string[] = [];
test.beforeEach(({ page }) => {
  pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    // The refused request below is the server's 401, on purpose.
    if (message.type() === "error" && !/status of 4\d\d/.test(message.text())) pageErrors.push(message.text());
  });
});
test.afterEach(() => {
  expect(pageErrors, "errors in the browser console").toEqual([]);
});

test("an admin adds a Logto source and Logto's request reaches a hook", async ({ page, request }) => {
  const receiver = await startReceiver("/hooks/from-logto");
  try {
    await signIn(page, admin);
    const apiKey = await createApiKey(page, "sources");
    const hook = await request.post("/api/hooks", {
      headers: { authorization: `Bearer ${apiKey}` },
      data: { name: "From Logto", events: ["PostRegister"], config: { url: receiver.url } },
    });
    expect(hook.status()).toBe(201);

    await page.getByRole("link", { name: "Sources" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Logto production");
    await page.getByLabel("Logto webhook signing key").fill(logtoKey);
    await page.getByRole("button", { name: "Add source" }).click();
    const url = (await page.getByTestId("new-source-url").textContent()) ?? "";
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:3100\/api\/sources\/\w+\/events$/);
    await expect(page.getByTestId("sources-table")).toContainText("Logto production");

    // Opened by its URL, at both widths.
    await page.goto("/sources");
    await hydrated(page);
    await expect(page.getByTestId("sources-table")).toContainText(url);
    for (const [width, height, label] of [
      [1360, 900, "desktop"],
      [390, 844, "phone"],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: join(shots, `sources-${label}.png`), fullPage: true });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    }

    // As Logto sends it: JSON.stringify of its payload, signed with its key.
    const body = JSON.stringify({
      hookId: "logto_hook_1",
      event: "PostRegister",
      createdAt: new Date().toISOString(),
      sessionId: "sess_e2e",
      user: { id: "u_e2e" },
    });
    const post = (signature: string) =>
      request.post(url, {
        headers: { "content-type": "application/json", "logto-signature-sha-256": signature },
        data: body,
      });
    expect((await post("0".repeat(64))).status()).toBe(401);
    const taken = await post(createHmac("sha256", logtoKey).update(body).digest("hex"));
    expect(taken.status()).toBe(202);
    await expect.poll(() => receiver.received.length).toBe(1);
    const delivered = JSON.parse(receiver.received[0]);
    expect(delivered.event).toBe("PostRegister");
    expect(delivered.user).toEqual({ id: "u_e2e" });
    expect(delivered.hookId).toBe((await hook.json()).id);
  } finally {
    receiver.close();
  }
});
