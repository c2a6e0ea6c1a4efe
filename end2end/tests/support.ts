import { APIRequestContext, expect, Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import { join } from "node:path";

// What the browser tests share: a real receiver, the server's setup link,
// and waiting for hydration.

/** A real webhook receiver on an ephemeral port, serving `path`: answers `script` in order, then 200 "ok".
 *  `received` has each request's body, `headers` its headers (names lowercase). */
export async function startReceiver(path: string) {
  const script: { status: number; body: string }[] = [];
  const received: string[] = [];
  const headers: Record<string, string | string[] | undefined>[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push(body);
      headers.push(request.headers);
      const reply = script.shift() ?? { status: 200, body: "ok" };
      response.writeHead(reply.status, { "content-type": "text/plain" }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${path}`, script, received, headers, close: () => server.close() };
}

/** The one-time setup link the server printed at start (serve-fresh.sh logs it). */
export function setupUrl(): string {
  const log = readFileSync(join(__dirname, "..", "test-results", "server.log"), "utf8");
  const match = log.match(/http:\/\/\S+\/setup\?token=\w+/);
  if (!match) throw new Error(`no setup link in the server log:\n${log}`);
  return match[0];
}

/** Waits until the wasm app has hydrated, so clicks reach Rust handlers. */
export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
}

/** Confirms the open dialog with `button` and waits for it to close. */
export async function confirmDialog(page: Page, button: string) {
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: button }).click();
  await expect(dialog).toBeHidden();
}

/** Adds a console user with `role` on the Users page (the page is signed in as an admin). */
export async function addUser(page: Page, who: { email: string; password: string }, role: "admin" | "viewer") {
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Email", { exact: true }).fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByLabel("Role", { exact: true }).selectOption(role);
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.locator("tbody tr", { hasText: who.email })).toContainText(role);
}

/** Sends events as a producer would, with `apiKey`; each must be accepted (202). Returns the answer. */
export function ingester(request: APIRequestContext, apiKey: string) {
  return async (body: object) => {
    const response = await request.post("/api/events", {
      headers: { authorization: `Bearer ${apiKey}` },
      data: body,
    });
    expect(response.status()).toBe(202);
    return response.json();
  };
}

/** A console user's credentials. */
export type Credentials = { email: string; password: string };

/**
 * Signs `who` in on the sign-in page, or on a fresh server creates `who` as
 * the first admin with the setup link. Both pages are plain HTML (they load
 * no wasm): the form posts and the server redirects to the overview, which
 * this waits for, hydrated.
 */
export async function signIn(page: Page, who: Credentials) {
  await page.goto("/sign-in");
  if (await page.getByText("No admin exists yet").isVisible()) {
    await page.goto(setupUrl());
    await page.getByLabel("Email", { exact: true }).fill(who.email);
    await page.getByLabel("Password", { exact: true }).fill(who.password);
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
  } else {
    await page.getByLabel("Email", { exact: true }).fill(who.email);
    await page.getByLabel("Password", { exact: true }).fill(who.password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await expect(page.getByRole("heading", { name: "Overview", exact: true })).toBeVisible();
  await hydrated(page);
}

/** Creates an API key named `prefix`-<time> on the API keys page, as the signed-in admin; returns it. */
export async function createApiKey(page: Page, prefix: string): Promise<string> {
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name", { exact: true }).fill(`${prefix}-${Date.now()}`);
  await page.getByRole("button", { name: "Create key" }).click();
  return (await page.getByTestId("new-api-key").textContent()) ?? "";
}
