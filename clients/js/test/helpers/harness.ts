// Clients for the tests: each records, for the coverage check, which commands got a
// successful reply and which push kinds arrived (test/coverage.check.ts).

import { appendFileSync } from "node:fs";
import {
  PlenaryClient,
  type ClientEvents,
  type ClientFrame,
  type ClientOptions,
  type ServerFrame,
  type Subprotocol,
} from "../../src/index.js";
import { mintToken, type Claims, type PlenaryServer } from "./server.js";

/** The subprotocols the suites run over (env `PLENARY_SUBPROTOCOLS`, comma-separated). */
export const SUBPROTOCOLS_UNDER_TEST = (process.env.PLENARY_SUBPROTOCOLS ?? "plenary.v1.proto,plenary.v1.json")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean) as Subprotocol[];

const coverageFile = process.env.PLENARY_COVERAGE_FILE;

function record(line: string): void {
  if (coverageFile) appendFileSync(coverageFile, line + "\n");
}

/** A trace that notes commands answered with success and pushes seen. */
function coverageTrace(subprotocol: Subprotocol) {
  const sent = new Map<bigint, string>();
  return (direction: "send" | "receive", frame: ClientFrame | ServerFrame) => {
    if (direction === "send") {
      const f = frame as ClientFrame;
      if (f.command.case) sent.set(f.id, f.command.case);
      return;
    }
    const f = frame as ServerFrame;
    if (f.frame.case === "reply") {
      const reply = f.frame.value;
      const kind = sent.get(reply.id);
      sent.delete(reply.id);
      if (kind && reply.result.case && reply.result.case !== "error") {
        record(`command ${subprotocol} ${kind}`);
      }
      const result = reply.result;
      if (result.case === "join" || result.case === "privateOpen") {
        for (const push of result.value.missed) record(`push ${subprotocol} ${push.body.case}`);
      }
    } else if (f.frame.case === "push") {
      record(`push ${subprotocol} ${f.frame.value.body.case}`);
    }
  };
}

export interface TestClientOptions extends Partial<ClientOptions> {
  claims?: Claims;
}

export function newClient(server: PlenaryServer, subprotocol: Subprotocol, options: TestClientOptions): PlenaryClient {
  const { claims, ...rest } = options;
  const client = new PlenaryClient({
    url: server.url,
    subprotocol,
    getToken: async () => mintToken(claims ?? { sub: "anon" }),
    minReconnectDelayMs: 50,
    maxReconnectDelayMs: 1000,
    commandTimeoutMs: 30_000,
    // Node 20's WebSocket may never report a socket that died during its handshake (a
    // server restarting): the connect time-out is what recovers from it.
    connectTimeoutMs: 3_000,
    trace: coverageTrace(subprotocol),
    ...rest,
  });
  if (process.env.PLENARY_TEST_DEBUG) {
    const who = claims?.sub ?? "?";
    for (const event of ["state", "disconnected", "recovered", "snapshot", "privateSnapshot", "lost", "error"] as const) {
      client.on(event, ((...args: unknown[]) =>
        console.error(
          `[${who}] ${event}`,
          ...args.map((a) => (typeof a === "object" ? JSON.stringify(a, (_k, v) => (typeof v === "bigint" ? `${v}` : v)).slice(0, 160) : a)),
        )) as never);
    }
  }
  return client;
}

/** A connected client for `claims`. */
export async function connectedClient(
  server: PlenaryServer,
  subprotocol: Subprotocol,
  claims: Claims,
  options: Partial<ClientOptions> = {},
): Promise<PlenaryClient> {
  const client = newClient(server, subprotocol, { claims, ...options });
  await client.connect();
  return client;
}

/** Resolves with the arguments of the first `event` that `pick` accepts. */
export function nextEvent<E extends keyof ClientEvents>(
  client: PlenaryClient,
  event: E,
  pick: (...args: Parameters<ClientEvents[E]>) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<Parameters<ClientEvents[E]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, ((...args: Parameters<ClientEvents[E]>) => {
      if (!pick(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    }) as ClientEvents[E]);
  });
}

/** Every `event` from now on, in order. */
export function collect<E extends keyof ClientEvents>(client: PlenaryClient, event: E): Parameters<ClientEvents[E]>[] {
  const seen: Parameters<ClientEvents[E]>[] = [];
  client.on(event, ((...args: Parameters<ClientEvents[E]>) => {
    seen.push(args);
  }) as unknown as ClientEvents[E]);
  return seen;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds (or fails after `timeoutMs`). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let counter = 0;
/** A context id unique within this process. */
export function uniqueContext(name: string): string {
  counter += 1;
  return `${name}-${process.pid}-${counter}`;
}
