import { defineConfig, devices } from "@playwright/test";

// Debian's Chromium, headless; Playwright never downloads a browser here.
export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  outputDir: "test-results/artifacts",
  use: {
    ...devices["Desktop Chrome"],
    baseURL: "http://127.0.0.1:3100",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    viewport: { width: 1360, height: 900 },
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: [
    // Where the server's OpenTelemetry spans go (see serve-fresh.sh).
    {
      command: "node otlp-collector.mjs",
      url: "http://127.0.0.1:3101/exports",
      reuseExistingServer: false,
      timeout: 10_000,
    },
    {
      command: "./serve-fresh.sh",
      url: "http://127.0.0.1:3100/health",
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
