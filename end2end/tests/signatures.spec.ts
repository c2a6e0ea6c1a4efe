import { expect, test } from "@playwright/test";
import { createPublicKey, verify } from "node:crypto";
import { join } from "node:path";
import { hydrated, ingester, signIn, startReceiver, createApiKey } from "./support";

// An Ed25519 hook through the console: created with the scheme picked in the
// form, its public key on its page (a direct load), a delivery that verifies
// with that key in Node's own Ed25519, then switched to HMAC in the form.

const admin = { email: "admin@example.com", password: "a long admin password" };
const shots = join(__dirname, "..", "test-results", "screenshots");

/** True when a `v1a` signature of `webhook-signature` verifies `id.timestamp.body` with `publicKey` (`whpk_…`). */
function verifiesV1a(publicKey: string, headers: Record<string, any>, body: string) {
  const key = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey.slice(5), "base64").toString("base64url") },
    format: "jwk",
  });
  const signed = Buffer.from(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`);
  return String(headers["webhook-signature"])
    .split(" ")
    .some((entry) => {
      const [version, signature] = entry.split(",");
      return version === "v1a" && verify(null, signed, key, Buffer.from(signature, "base64"));
    });
}

let pageErrors: string[] = [];
test.beforeEach(({ page }) => {
  pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
});
test.afterEach(() => {
  expect(pageErrors, "errors in the browser console").toEqual([]);
});

test("an admin creates an Ed25519 hook, a delivery verifies with its public key, then it switches to HMAC", async ({
  page,
  request,
}) => {
  const receiver = await startReceiver("/hooks/ed25519");
  try {
    await signIn(page, admin);
    const apiKey = await createApiKey(page, "signatures");

    await page.getByRole("link", { name: "Webhooks", exact: true }).first().click();
    await page.getByRole("link", { name: "Create webhook" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Ed25519 receiver");
    await page.getByLabel("Endpoint URL", { exact: true }).fill(receiver.url);
    await page.getByLabel("PostSignIn", { exact: true }).check();
    await page.getByLabel("Signature scheme").selectOption("ed25519");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await expect(page.getByRole("heading", { name: "Ed25519 receiver", exact: true })).toBeVisible();

    // Opened by its URL: the public key, no secret to reveal.
    await page.reload();
    await hydrated(page);
    const publicKey = page.getByTestId("public-key");
    await expect(publicKey).toHaveText(/^whpk_[A-Za-z0-9+/]{43}=$/);
    await expect(page.getByLabel("Signature scheme")).toHaveValue("ed25519");
    await expect(page.getByRole("button", { name: "Reveal" })).toHaveCount(0);
    for (const [width, height, label] of [
      [1360, 900, "desktop"],
      [390, 844, "phone"],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: join(shots, `ed25519-hook-${label}.png`), fullPage: true });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    }
    await page.setViewportSize({ width: 1360, height: 900 });

    // A delivery, checked with the key the page shows.
    await ingester(request, apiKey)({ event: "PostSignIn", userId: "ed25519-user" });
    await expect.poll(() => receiver.received.length).toBe(1);
    const key = (await publicKey.textContent()) ?? "";
    expect(verifiesV1a(key, receiver.headers[0], receiver.received[0])).toBe(true);
    expect(receiver.headers[0]["logto-signature-sha-256"]).toBeUndefined();

    // Back to HMAC: a signing key to reveal, the public key gone.
    await page.getByLabel("Signature scheme").selectOption("hmac");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByTestId("signing-key")).toBeVisible();
    await expect(page.getByTestId("public-key")).toHaveCount(0);
    await page.getByRole("button", { name: "Reveal" }).click();
    await expect(page.getByTestId("signing-key")).toHaveText(/^[0-9A-Za-z]{32}$/);
  } finally {
    receiver.close();
  }
});
