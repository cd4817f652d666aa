// Starts a real `plenary` binary on 127.0.0.1 with free ports and a temp data dir, mints
// tokens for it, and stops it at the end. `PLENARY_BIN` names the binary (default: the
// workspace's target/debug/plenary).

import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** clients/js (this file is at clients/js/.test-build/test/helpers/). */
export const PACKAGE_ROOT = resolve(here, "../../..");
export const REPO_ROOT = resolve(PACKAGE_ROOT, "../..");

export const PLENARY_BIN = process.env.PLENARY_BIN ?? join(REPO_ROOT, "target/debug/plenary");
export const SECRET = "js-sdk-test-secret-0123456789abcdef";
export const ADMIN_KEY = "js-sdk-admin-key-0123456789abcdef";

export interface ServerOptions {
  /** Extra flags, e.g. `["--ping-interval-secs", "1"]`. */
  args?: string[];
  /** Reuse a data dir (a restart); by default a fresh temp dir removed at stop. */
  dataDir?: string;
  /** Reuse ports (a restart on the same address). */
  port?: number;
  adminPort?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PlenaryServer {
  private constructor(
    private child: ChildProcess,
    readonly port: number,
    readonly adminPort: number,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  static async start(options: ServerOptions = {}): Promise<PlenaryServer> {
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "plenary-js-"));
    const args = options.args ?? [];
    // A free port may be taken before the server binds it: then it exits, try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = options.port ?? (await freePort());
      const adminPort = options.adminPort ?? (await freePort());
      const child = spawnServer(dataDir, port, adminPort, args);
      if (await waitListening(child, port)) {
        return new PlenaryServer(child, port, adminPort, dataDir, ownsDataDir, args);
      }
      child.kill("SIGKILL");
      if (options.port !== undefined) break;
    }
    throw new Error(`plenary (${PLENARY_BIN}) did not start listening; set PLENARY_BIN`);
  }

  /** kill -9: no drain, no close frames (clients see 1006). */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** SIGTERM: the server drains, closing every connection with 1012. */
  async terminate(): Promise<void> {
    await this.signal("SIGTERM");
  }

  /** Starts the binary again on the same ports and data dir. */
  async restart(): Promise<void> {
    for (let attempt = 0; attempt < 40; attempt++) {
      const child = spawnServer(this.dataDir, this.port, this.adminPort, this.args);
      if (await waitListening(child, this.port)) {
        this.child = child;
        return;
      }
      child.kill("SIGKILL");
      await sleep(100); // the port may still be held for a moment
    }
    throw new Error("plenary did not restart");
  }

  async stop(): Promise<void> {
    await this.signal("SIGKILL");
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

function spawnServer(dataDir: string, port: number, adminPort: number, args: string[]): ChildProcess {
  const child = spawn(
    PLENARY_BIN,
    [
      "--listen",
      `127.0.0.1:${port}`,
      "--admin-listen",
      `127.0.0.1:${adminPort}`,
      "--data-dir",
      dataDir,
      "--sync-mode",
      "normal",
      "--drain-grace-secs",
      "2",
      "--user-rate",
      "1000",
      "--user-burst",
      "1000",
      ...args,
    ],
    {
      env: {
        ...process.env,
        PLENARY_JWT_SECRET: SECRET,
        PLENARY_ADMIN_API_KEY: ADMIN_KEY,
        PLENARY_LOG: process.env.PLENARY_LOG ?? "error",
      },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  return child;
}

async function waitListening(child: ChildProcess, port: number): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await canConnect(port)) return true;
    await sleep(25);
  }
  return false;
}

export interface Claims {
  sub: string;
  given_name?: string;
  family_name?: string;
  email?: string;
  moderates?: string[];
  admin?: boolean;
  /** Lifetime in seconds (default one hour). */
  ttl?: number;
}

/** An HS256 JWT for the test server (claims per PROTOCOL §2). */
export function mintToken(claims: Claims): string {
  const now = Math.floor(Date.now() / 1000);
  const { ttl = 3600, ...rest } = claims;
  const payload = { ...rest, aud: "plenary", iss: "plenary", iat: now, exp: now + ttl, jti: randomBytes(6).toString("hex") };
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(payload)}`;
  const signature = createHmac("sha256", SECRET).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}
