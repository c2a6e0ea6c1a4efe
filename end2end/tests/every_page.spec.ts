import AxeBuilder from "@axe-core/playwright";
import { Browser, expect, Page, test } from "@playwright/test";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import { join } from "node:path";
import { hydrated, signIn } from "./support";

// Every console page, opened by its URL with real data behind it (several
// hooks, hundreds of deliveries, some of them failed), at desktop and phone
// size, in light and dark mode. Each combination is photographed to
// test-results/screenshots/ and must show no browser error (a console error, an
// uncaught exception, a panic) and nothing sticking out sideways at phone
// width; axe-core must find no serious or critical accessibility violation at
// desktop size in both modes and at phone size in light mode.
//
// Runs on a fresh server, or after the other specs on the same one: it sets
// up the admin only when none exists, and names its own data.
test.describe.configure({ mode: "serial" });

const admin = { email: "admin@example.com", password: "a long admin password" };
const shots = join(__dirname, "..", "test-results", "screenshots");
const adminState = join(__dirname, "..", "test-results", "every-page-admin.json");
const viewports = [
  { label: "desktop", width: 1440, height: 900 },
  { label: "phone", width: 390, height: 844 },
] as const;
const schemes = ["light", "dark"] as const;
/** Events sent; each goes to all three hooks. */
const EVENTS = 120;

const data = { hookId: "", failedDelivery: "" };

/** A receiver for the three hooks: /ok answers 200, /flaky fails every third request, /down always. */
async function startReceivers() {
  let flaky = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      const failing = request.url === "/down" || (request.url === "/flaky" && ++flaky % 3 === 0);
      response
        .writeHead(failing ? 503 : 200, { "content-type": "text/plain" })
        .end(failing ? "down for maintenance" : "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** Signs the admin in (creating it on a fresh server) and makes an API key; saves the session. */
async function signInAndMakeKey(browser: Browser): Promise<string> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, admin);
  await context.storageState({ path: adminState });
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name", { exact: true }).fill(`every-page-${Date.now()}`);
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("new-api-key")).toHaveText(/^hkl_/);
  const key = (await page.getByTestId("new-api-key").textContent()) ?? "";
  await context.close();
  return key;
}

test.beforeAll(async ({ browser, playwright }) => {
  test.setTimeout(90_000);
  const apiKey = await signInAndMakeKey(browser);
  const api = await playwright.request.newContext({
    baseURL: test.info().project.use.baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${apiKey}` },
  });
  const receivers = await startReceivers();
  try {
    const hooks: string[] = [];
    for (const [name, path] of [
      ["Every page: billing", "/ok"],
      ["Every page: CRM sync", "/flaky"],
      ["Every page: legacy", "/down"],
    ]) {
      const hook = await api.post("/api/hooks", {
        data: { name, events: ["PostRegister", "PostSignIn"], config: { url: receivers.base + path } },
      });
      expect(hook.status()).toBe(201);
      hooks.push((await hook.json()).id);
    }
    data.hookId = hooks[1];

    // The events, twenty at a time.
    const events: string[] = [];
    for (let start = 0; start < EVENTS; start += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, EVENTS - start) }, async (_, i) => {
          const n = start + i;
          const answer = await api.post("/api/events", {
            data: { event: n % 2 ? "PostSignIn" : "PostRegister", userId: `every-page-${n}` },
          });
          expect(answer.status()).toBe(202);
          return (await answer.json()).id as string;
        }),
      );
      events.push(...batch);
    }
    // Settled: the last event's deliveries are done (retries are off), and one failed.
    await expect
      .poll(
        async () => {
          const event = await (await api.get(`/api/events/${events[events.length - 1]}`)).json();
          // Only this spec's hooks: other specs' hooks may listen too.
          const ours = event.deliveries.filter((d: any) => hooks.includes(d.hookId));
          const states: string[] = ours.map((d: any) => d.state);
          const failed = ours.find((d: any) => d.state === "failed" && d.hookId === hooks[2]);
          data.failedDelivery = failed?.id ?? "";
          return states.length === 3 && states.every((state) => state !== "pending");
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    expect(data.failedDelivery).not.toBe("");
  } finally {
    receivers.close();
    await api.dispose();
  }
});

/** Every page, by the URL a person would open or share. */
const pages: [name: string, path: () => string, signedIn: boolean][] = [
  ["overview", () => "/", true],
  ["webhooks", () => "/webhooks", true],
  ["new-webhook", () => "/webhooks/new", true],
  ["webhook", () => `/webhooks/${data.hookId}`, true],
  ["requests", () => `/webhooks/${data.hookId}/requests`, true],
  ["delivery", () => `/deliveries/${data.failedDelivery}`, true],
  ["events", () => "/events", true],
  ["api-keys", () => "/api-keys", true],
  ["users", () => "/users", true],
  ["settings", () => "/settings", true],
  ["sources", () => "/sources", true],
  ["incidents", () => "/incidents", true],
  ["search", () => "/search?q=every-page-7", true],
  ["sign-in", () => "/sign-in", false],
];

/** Two animation frames: what a style change (the colour scheme) needs to be painted. */
async function painted(page: Page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

for (const [name, path, signedIn] of pages) {
  test(name, async ({ browser }) => {
    const problems: string[] = [];
    for (const viewport of viewports) {
      const context = await browser.newContext({
        storageState: signedIn ? adminState : undefined,
        viewport: { width: viewport.width, height: viewport.height },
        colorScheme: "light",
      });
      const page = await context.newPage();
      const where = () => `${viewport.label}`;
      page.on("pageerror", (error) => problems.push(`${where()}: uncaught: ${error.message}`));
      page.on("console", (message) => {
        const text = message.text();
        if (message.type() === "error" || /panicked|unreachable|RuntimeError|hydration/i.test(text)) {
          problems.push(`${where()}: console.${message.type()}: ${text}`);
        }
      });
      const response = await page.goto(path());
      expect(response?.status(), `${path()} answered`).toBeLessThan(400);
      // The sign-in page loads no wasm: there is nothing to hydrate.
      if (signedIn) await hydrated(page);
      for (const scheme of schemes) {
        const label = `${viewport.label} ${scheme}`;
        await page.emulateMedia({ colorScheme: scheme });
        await painted(page);
        await page.screenshot({
          path: join(shots, `every-${name}-${viewport.label}-${scheme}.png`),
          fullPage: true,
        });
        if (viewport.label === "phone") {
          const wide = await page.evaluate(() => document.documentElement.scrollWidth);
          if (wide > viewport.width) {
            const culprits = await page.evaluate((width) => {
              return [...document.querySelectorAll("body *")]
                .filter((element) => element.getBoundingClientRect().right > width + 1)
                .slice(0, 5)
                .map((element) => `<${element.tagName.toLowerCase()} class="${element.className}">`);
            }, viewport.width);
            problems.push(`${label}: ${wide}px wide, wider than the screen: ${culprits.join(", ")}`);
          }
        }
        // Dark mode's contrast is checked at desktop size; the phone layout in light mode.
        if (viewport.label === "phone" && scheme === "dark") continue;
        const axe = await new AxeBuilder({ page }).analyze();
        for (const violation of axe.violations) {
          if (violation.impact === "serious" || violation.impact === "critical") {
            const targets = violation.nodes
              .slice(0, 3)
              .map((node) => node.target.join(" "))
              .join("; ");
            problems.push(`${label}: axe ${violation.impact} ${violation.id} (${violation.help}): ${targets}`);
          }
        }
      }
      await context.close();
    }
    expect(problems, `${name} (${path()})`).toEqual([]);
  });
}
