import { expect, test } from "@playwright/test";
import { join } from "node:path";
import { hydrated, ingester, signIn, startReceiver, createApiKey } from "./support";

// OpenTelemetry: the server under test exports to otlp-collector.mjs. A
// delivery's page names its trace, and that trace is one the collector got.

const admin = { email: "admin@example.com", password: "a long admin password" };
const shots = join(__dirname, "..", "test-results", "screenshots");
const collector = "http://127.0.0.1:3101/exports";

test("a delivery's page names its trace, and the collector has it", async ({ page, request }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  const receiver = await startReceiver("/hooks/traced");
  try {
    await signIn(page, admin);
    const apiKey = await createApiKey(page, "traces");
    const hook = await request.post("/api/hooks", {
      headers: { authorization: `Bearer ${apiKey}` },
      data: { name: "Traced", events: ["PostResetPassword"], config: { url: receiver.url } },
    });
    expect(hook.status()).toBe(201);
    const hookId = (await hook.json()).id;
    const event = await ingester(request, apiKey)({ event: "PostResetPassword", data: { id: "traced-user" } });
    let deliveryId = "";
    await expect
      .poll(async () => {
        const stored = await (
          await request.get(`/api/events/${event.id}`, { headers: { authorization: `Bearer ${apiKey}` } })
        ).json();
        const ours = stored.deliveries.find((d: any) => d.hookId === hookId);
        deliveryId = ours?.id ?? "";
        return ours?.state;
      })
      .toBe("delivered");

    await page.goto(`/deliveries/${deliveryId}`);
    await hydrated(page);
    // The figure holds the id and its copy button.
    const figure = (await page.getByTestId("trace-id").textContent()) ?? "";
    const traceId = figure.match(/[0-9a-f]{32}/)?.[0] ?? "";
    expect(traceId, figure).not.toBe("");
    await expect
      .poll(async () => (await (await request.get(`${collector}?trace=${traceId}`)).json()).holdsTrace, {
        timeout: 15_000,
      })
      .toBe(true);
    for (const [width, height, label] of [
      [1360, 900, "desktop"],
      [390, 844, "phone"],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: join(shots, `traces-delivery-${label}.png`), fullPage: true });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    }
  } finally {
    receiver.close();
  }
  expect(errors, "errors in the browser console").toEqual([]);
});
