// What the browser tests share: a real `plenary` binary on free loopback ports with a
// temporary data directory (restartable on the same ones, or killed with SIGKILL),
// headless Chromium through playwright-core, pages signed in with demo tokens, and
// waiting for what a page shows.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, "../../..");
export const screenshots = resolve(here, "../screenshots");
const BIN = process.env.PLENARY_BIN || join(repo, "target/debug/plenary");
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const SECRET = "browser-test-secret-0123456789abcdef";

/** A port nobody listens on right now (127.0.0.1). */
export async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

export function sleep(ms) {
  return new Promise((ok) => setTimeout(ok, ms));
}

/** The gateway as a child process: `start`, `kill9`, `stop`; same ports and data on restart. */
export class Plenary {
  constructor() {
    this.dataDir = mkdtempSync(join(tmpdir(), "plenary-web-"));
    this.child = null;
    this.log = [];
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.port ??= await freePort();
    this.adminPort ??= await freePort();
    const child = spawn(BIN, [], {
      env: {
        PATH: process.env.PATH,
        PLENARY_JWT_SECRET: SECRET,
        PLENARY_LISTEN: `127.0.0.1:${this.port}`,
        PLENARY_ADMIN_LISTEN: `127.0.0.1:${this.adminPort}`,
        PLENARY_DATA_DIR: this.dataDir,
        PLENARY_SYNC_MODE: "normal",
        PLENARY_DEMO_TOKENS: "1",
        PLENARY_LOG: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const keep = (chunk) => {
      this.log.push(chunk.toString());
      if (this.log.length > 200) this.log.shift();
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`plenary exited (${child.exitCode}):\n${this.log.join("")}`);
      const ok = await fetch(`${this.base}/app/`).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`plenary did not serve /app within 20 s:\n${this.log.join("")}`);
      await sleep(100);
    }
  }

  /** SIGKILL: no drain, no goodbye (a crash). */
  async kill9() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((ok) => child.once("exit", ok));
    child.kill("SIGKILL");
    await exited;
  }

  async stop() {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A demo token from the gateway (it runs with PLENARY_DEMO_TOKENS=1). */
  async token(sub, name, moderates = []) {
    const q = new URLSearchParams({ sub, name });
    if (moderates.length) q.set("moderates", moderates.join(","));
    const r = await fetch(`${this.base}/app/demo-token?${q}`);
    if (!r.ok) throw new Error(`demo token: ${r.status} ${await r.text()}`);
    return (await r.text()).trim();
  }
}

/** Headless Chromium (the system's), loopback only, a fresh profile per browser. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "plenary-chromium-"));
  mkdirSync(profile, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // playwright's own profile flag is only for persistent contexts; the crash and
      // cache directories go to a fresh temporary directory instead.
      `--disk-cache-dir=${join(profile, "cache")}`,
      `--crash-dumps-dir=${join(profile, "crashes")}`,
    ],
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    rmSync(profile, { recursive: true, force: true });
  };
  return browser;
}

/**
 * A page of its own (own storage) signed in as `sub` in `context`: the app reads the
 * token from `#token=`, as a user's link would carry it.
 */
export async function openUser(browser, server, { sub, name, moderates = [], context }) {
  const token = await server.token(sub, name, moderates);
  const browserContext = await browser.newContext({ viewport: { width: 900, height: 860 } });
  const page = await browserContext.newPage();
  page.setDefaultTimeout(15_000);
  page.errors = [];
  page.user = sub;
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && page.errors.push(`console: ${m.text()}`));
  await page.goto(`${server.base}/app/#token=${encodeURIComponent(token)}&context=${encodeURIComponent(context)}`);
  await live(page);
  return page;
}

/** Waits until the page says it is connected and joined. */
export async function live(page, timeout = 15_000) {
  await page.locator('[data-testid=status][data-state="connected"]').waitFor({ timeout });
}

export async function tab(page, key) {
  await page.getByTestId(`tab-${key}`).click();
  await page.getByTestId(`${key === "chat" ? "chat" : key}-view`).waitFor();
}

/** Waits until `predicate(arg)`, evaluated in the page, is true. */
export async function until(page, predicate, arg, timeout = 15_000) {
  await page.waitForFunction(predicate, arg, { timeout, polling: 50 });
}

/** The texts of a list's messages, in order. */
export async function texts(page, testid) {
  return page.getByTestId(testid).locator("[data-testid=message-text]").allTextContents();
}

/** Sends a chat message from a page's composer (`chat`, `backchannel`, `ask`, …). */
export async function write(page, composer, text) {
  await page.getByTestId(`${composer}-input`).fill(text);
  await page.getByTestId(`${composer}-send`).click();
}

/**
 * Runs `body(pages)`; when it fails, each page's screenshot goes to the test output
 * directory (PLENARY_WEB_TEST_OUT, default the system's temporary directory) first.
 */
export async function withEvidence(pages, body) {
  try {
    await body();
  } catch (e) {
    const out = process.env.PLENARY_WEB_TEST_OUT || tmpdir();
    for (const page of pages()) {
      const path = join(out, `failed-${page.user}.png`);
      await page.screenshot({ path, fullPage: true }).catch(() => {});
      // What the page's session holds: connection, recoveries, private chat.
      const state = await page.evaluate(() => {
        const s = window.plenary;
        if (!s) return null;
        const peers = [...s.priv.peers.values()].map((p) => ({ user: p.userId, status: p.status, unread: p.unread, read: String(p.myReadId), peerRead: String(p.peerReadId) }));
        const conversations = Object.fromEntries([...s.priv.conversations].map(([k, c]) => [k, [...c.values()].map((m) => m.text)]));
        return { status: s.status, client: s.client.state, stats: s.stats, peers, conversations, privatePosition: String(s.client.position("")?.seq) };
      }).catch((e) => String(e));
      console.error(`screenshot of ${page.user}: ${path}; errors: ${JSON.stringify(page.errors)}; state: ${JSON.stringify(state)}`);
    }
    throw e;
  }
}
