// The client's public types: its options, the WebSocket it needs, its connection states
// and the events it emits.

import type {
  ClientFrame,
  ConnectOk,
  JoinOk,
  PrivateOk,
  PrivateSnapshot,
  Push,
  ServerFrame,
  Snapshot,
} from "./gen/plenary/v1/client_pb.js";
import type { Subprotocol } from "./codec.js";
import type { PlenaryError } from "./errors.js";

export type ConnectionState =
  /** Not started, stopped by `close()`, or stopped by a close code that must not loop. */
  | "closed"
  /** Opening a socket and sending `connect`. */
  | "connecting"
  /** `connect` answered: commands flow. */
  | "connected"
  /** Lost the connection; waiting for the next attempt. */
  | "disconnected";

/** The WebSocket constructor (the browser's, Node 22's, or e.g. the `ws` package's). */
export interface WebSocketLike {
  binaryType: string;
  readonly protocol: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

export interface ClientOptions {
  /** `ws://host:8080/ws` or `wss://…`. */
  url: string;
  /**
   * Returns a valid JWT (PROTOCOL §2). Called before the first connect, when the cached
   * token is close to expiry, after a 4001 close, and ahead of expiry for `refresh`.
   */
  getToken: () => Promise<string>;
  /** Default `plenary.v1.proto`: smaller frames, exact 64-bit values. */
  subprotocol?: Subprotocol;
  /** Reconnect back-off: the first attempt waits 0…min, each next one up to twice that. */
  minReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** A command without a reply after this long is rejected (default 20 s). */
  commandTimeoutMs?: number;
  /** Socket open + `connect` reply must take less than this (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * How long before the token's `exp` to refresh it. Default: 10 % of its lifetime,
   * at most 30 s.
   */
  refreshMarginMs?: number;
  /**
   * Send `refresh` with a fresh token ahead of `exp` (default true). Off: the server
   * closes with 4001 at expiry and the client reconnects with a fresh token.
   */
  autoRefresh?: boolean;
  /** Defaults to `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Sees every frame sent and received (debugging, tests). */
  trace?: (direction: "send" | "receive", frame: ClientFrame | ServerFrame) => void;
}

export interface DisconnectInfo {
  code: number;
  reason: string;
  /** False when the client stopped: `close()` or a close code that must not loop. */
  willReconnect: boolean;
  /** The wait before the next attempt, when reconnecting. */
  delayMs: number;
}

export type PushKind = NonNullable<Push["body"]["case"]>;
export type PushValue<K extends PushKind> = Extract<Push["body"], { case: K }>["value"];

/** One event per push body kind: `client.on("message", (message, push) => …)`. */
export type PushEvents = { [K in PushKind]: (value: PushValue<K>, push: Push) => void };

export type ClientEvents = PushEvents & {
  /** Every push applied, in order per stream, each once (also those recovered in `missed`). */
  push: (push: Push) => void;
  state: (state: ConnectionState, previous: ConnectionState) => void;
  /** Each successful `connect` (the first and every reconnect). */
  connected: (session: ConnectOk) => void;
  disconnected: (info: DisconnectInfo) => void;
  /**
   * A context's state starts over: replace everything you hold for it with `snapshot`.
   * On every join answered with a snapshot: your own `join`, and a rejoin (reconnect or
   * `resync`) that could not recover.
   */
  snapshot: (contextId: string, snapshot: Snapshot, join: JoinOk) => void;
  /** The same for the private stream (`openPrivate`, or a reopen that could not recover). */
  privateSnapshot: (snapshot: PrivateSnapshot, reply: PrivateOk) => void;
  /**
   * A rejoin recovered: the `missed` pushes were delivered (as `push` events, in order,
   * without duplicates) before this event. `stream` is a context id, or "" for the
   * private stream.
   */
  recovered: (stream: string, missed: number) => void;
  /** The client stopped following a stream: a rejoin was refused (`error` says why). */
  lost: (stream: string, error: PlenaryError) => void;
  /** Something went wrong outside any command (getToken failed, refresh refused, …). */
  error: (error: Error) => void;
};
