import { Browser, CDPSession, expect, Page, test } from "@playwright/test";
import { join } from "node:path";
import { hydrated, signIn } from "./support";

// How fast the console loads: what the first visit to the sign-in page
// transfers with an empty cache, how long a page takes to become interactive
// (navigation start to `data-hydrated` on <body>, which the app sets when
// hydration completes), and the headers that make both small: compressed
// assets, kept a year under their hashed names.
//
// Runs on a fresh server or after the other specs on the same one; its tests
// are independent of each other.

const admin = { email: "admin@example.com", password: "a long admin password" };
const adminState = join(__dirname, "..", "test-results", "load-admin.json");
/** What the first load of the sign-in page may transfer, all responses together
 *  (issue 19's target). The page is plain HTML and CSS: it loads no wasm. */
const SIGN_IN_BUDGET = 400 * 1024;
/** Navigation start to hydrated. */
const INTERACTIVE_BUDGET_MS = 1000;
/** The pages measured for time to interactive: the overview (the home page) and the webhooks list. */
const MEASURED = ["/", "/webhooks"];

/** Counts the bytes every response of `page` took on the wire (headers and encoded body). */
async function countTransfer(page: Page) {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  const urls = new Map<string, string>();
  const sizes = new Map<string, number>();
  cdp.on("Network.requestWillBeSent", (event) => urls.set(event.requestId, event.request.url));
  cdp.on("Network.loadingFinished", (event) => sizes.set(event.requestId, event.encodedDataLength));
  return {
    total: () => [...sizes.values()].reduce((sum, size) => sum + size, 0),
    byUrl: () => [...sizes].map(([id, size]) => `${size}\t${urls.get(id)}`).join("\n"),
  };
}

/** Milliseconds from navigation start until the app marked <body> hydrated. */
async function timeToInteractive(page: Page) {
  await hydrated(page);
  return page.evaluate(() => (window as any).__hydratedAt as number);
}

/** Records, in every document of `page`, when <body> gets `data-hydrated`. */
async function watchHydration(page: Page) {
  await page.addInitScript(() => {
    const observer = new MutationObserver(() => {
      if (document.body?.hasAttribute("data-hydrated")) {
        (window as any).__hydratedAt = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
  });
}

async function freshPage(browser: Browser, storageState?: string) {
  const context = await browser.newContext({ storageState, viewport: { width: 1440, height: 900 } });
  return context.newPage();
}

/** Records the headers of every `/pkg/` asset and the favicon `page` loads. */
function watchAssets(page: Page) {
  const assets: { url: string; headers: Record<string, string> }[] = [];
  page.on("response", async (response) => {
    if (/\/pkg\/|favicon/.test(response.url())) {
      assets.push({ url: response.url(), headers: await response.allHeaders() });
    }
  });
  return (suffix: string) => {
    const asset = assets.find((asset) => asset.url.endsWith(suffix));
    expect(asset, `a ${suffix} asset was loaded: ${assets.map((a) => a.url).join(", ")}`).toBeTruthy();
    return asset!;
  };
}

test("the first load of the sign-in page is small and loads no wasm", async ({ browser }) => {
  const page = await freshPage(browser);
  const transfer = await countTransfer(page);
  const asset = watchAssets(page);
  await page.goto("/sign-in");
  await page.waitForLoadState("networkidle");
  const total = transfer.total();
  console.log(`sign-in, first load: ${(total / 1024).toFixed(1)} KB\n${transfer.byUrl()}`);
  expect(total, `the sign-in page transferred ${total} bytes:\n${transfer.byUrl()}`).toBeLessThanOrEqual(
    SIGN_IN_BUDGET,
  );
  expect(transfer.byUrl()).not.toMatch(/\.(wasm|js)$/m);
  const css = asset(".css");
  expect(css.headers["content-encoding"]).toMatch(/^(br|gzip)$/);
  expect(css.headers["cache-control"]).toMatch(/immutable|no-cache/);

  // The page itself: compressed, never stored.
  const html = await page.request.get("/sign-in", { headers: { "accept-encoding": "br, gzip" } });
  expect(html.headers()["content-encoding"]).toMatch(/^(br|gzip)$/);
  expect(html.headers()["cache-control"]).toBe("no-store");
  await page.context().close();
});

test("JSON answers are not compressed", async ({ playwright, baseURL }) => {
  // They carry keys beside what the caller sent (server/src/http/mod.rs, `compressible`).
  const api = await playwright.request.newContext({ baseURL });
  const document = await api.get("/api/openapi.json", { headers: { "accept-encoding": "br, gzip" } });
  expect(document.status()).toBe(200);
  expect(document.headers()["content-encoding"]).toBeUndefined();
  await api.dispose();
});

test("a signed-in page is interactive within a second", async ({ browser }) => {
  // Signs in once (setting up the admin on a fresh server).
  const page = await freshPage(browser);
  await signIn(page, admin);
  await page.context().storageState({ path: adminState });
  await page.context().close();

  for (const path of MEASURED) {
    // An empty cache: everything comes from the server.
    const cold = await freshPage(browser, adminState);
    await watchHydration(cold);
    const asset = watchAssets(cold);
    await cold.goto(path);
    const coldMs = await timeToInteractive(cold);
    // The app: compressed, under hashed names (hookline.<hash>.wasm), kept a year without asking.
    for (const suffix of [".wasm", ".js"]) {
      const { url, headers } = asset(suffix);
      expect(headers["content-encoding"], url).toMatch(/^(br|gzip)$/);
      expect(url).toMatch(/\/pkg\/hookline\.[\w-]{10,}\.(wasm|js)$/);
      expect(headers["cache-control"], url).toBe("public, max-age=31536000, immutable");
    }
    // A second visit: the hashed assets come from the cache without a request.
    const cdp = await cold.context().newCDPSession(cold);
    await cdp.send("Network.enable");
    // What the hashed JS and wasm cost on the wire: nothing when served from the cache.
    const assets = new Map<string, string>();
    const network: string[] = [];
    cdp.on("Network.requestWillBeSent", (event) => {
      if (/\.(wasm|js)$/.test(event.request.url)) assets.set(event.requestId, event.request.url);
    });
    cdp.on("Network.loadingFinished", (event) => {
      const url = assets.get(event.requestId);
      if (url && event.encodedDataLength > 0) network.push(`${url}: ${event.encodedDataLength} bytes`);
    });
    await cold.goto("/events");
    await hydrated(cold);
    await cold.goto(path);
    const warmMs = await timeToInteractive(cold);
    console.log(`${path}: interactive after ${coldMs.toFixed(0)} ms (empty cache), ${warmMs.toFixed(0)} ms (cached)`);
    expect(network, "hashed assets fetched again despite the cache").toEqual([]);
    expect(coldMs, `${path}: time to interactive, empty cache`).toBeLessThanOrEqual(INTERACTIVE_BUDGET_MS);
    expect(warmMs, `${path}: time to interactive, cached`).toBeLessThanOrEqual(INTERACTIVE_BUDGET_MS);
    await cold.context().close();
  }
});
