// The client: one WebSocket at a time, typed commands matched to replies by id, pushes
// applied once and in order per stream, and reconnects that recover every joined context
// and the private stream from their last positions (PROTOCOL §1, §5, §7).

import { create } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  ErrorCode,
  SnapshotSchema,
  PrivateSnapshotSchema,
  type ClientFrame,
  type ConnectOk,
  type JoinOk,
  type PrivateOk,
  type PrivateSnapshot,
  type Push,
  type Reply,
  type ServerFrame,
  type Snapshot,
} from "./gen/plenary/v1/client_pb.js";
import { backoffDelay } from "./backoff.js";
import { closeVerdict } from "./close.js";
import { decodeServerFrame, encodeClientFrame, type Subprotocol } from "./codec.js";
import { RESULT_OF, type CommandBody, type CommandKind, type CommandResult } from "./commands.js";
import { TypedEmitter } from "./emitter.js";
import { PlenaryError } from "./errors.js";
import { tokenTimes } from "./token.js";

/** The stream id of the private stream (its pushes have an empty `context_id`). */
export const PRIVATE_STREAM = "";

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

interface Position {
  epoch: bigint;
  seq: bigint;
}

/** A joined context or the open private stream, and where its pushes stand. */
interface Stream {
  id: string;
  position: Position | undefined;
  /** A join (or private_open) for it is in flight: its pushes wait in `held`. */
  joining: boolean;
  held: Push[];
}

interface Pending {
  kind: CommandKind;
  /** An app's join/private_open/leave: the stream whose bookkeeping its reply changes. */
  stream?: string;
  onReply: (reply: Reply) => void;
  onLost: (error: PlenaryError) => void;
}

interface Queued {
  kind: CommandKind;
  body: unknown;
  pending: Pending;
  markSent: () => void;
}

const DEFAULT_SUBPROTOCOL: Subprotocol = "plenary.v1.proto";

export class PlenaryClient extends TypedEmitter<ClientEvents> {
  private readonly options: Required<Omit<ClientOptions, "refreshMarginMs" | "trace" | "WebSocket">> &
    Pick<ClientOptions, "refreshMarginMs" | "trace">;
  private readonly WebSocketImpl: WebSocketConstructor;

  private currentState: ConnectionState = "closed";
  private socket: WebSocketLike | undefined;
  private nextId = 1n;
  private readonly pending = new Map<bigint, Pending>();
  private queue: Queued[] = [];
  private readonly streams = new Map<string, Stream>();
  /** Rejoins of the current connection not answered yet: commands wait for them. */
  private rejoinsInFlight = 0;

  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private token: string | undefined;
  /** Server clock minus local clock, from the last `connect` reply. */
  private clockOffsetMs = 0;
  private sessionInfo: ConnectOk | undefined;
  private connectWaiters: { resolve: (s: ConnectOk) => void; reject: (e: Error) => void }[] = [];

  constructor(options: ClientOptions) {
    super();
    this.options = {
      url: options.url,
      getToken: options.getToken,
      subprotocol: options.subprotocol ?? DEFAULT_SUBPROTOCOL,
      minReconnectDelayMs: options.minReconnectDelayMs ?? 500,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 30_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 20_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      refreshMarginMs: options.refreshMarginMs,
      autoRefresh: options.autoRefresh ?? true,
      trace: options.trace,
    };
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) {
      throw new TypeError("no WebSocket implementation: pass options.WebSocket");
    }
    this.WebSocketImpl = impl;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The last `connect` reply (user id, limits, server time), while connected. */
  get session(): ConnectOk | undefined {
    return this.currentState === "connected" ? this.sessionInfo : undefined;
  }

  get subprotocol(): Subprotocol {
    return this.options.subprotocol;
  }

  /** The contexts this client follows (joined, or being rejoined). */
  get joinedContexts(): string[] {
    return [...this.streams.keys()].filter((id) => id !== PRIVATE_STREAM);
  }

  /** The last applied position of a context (or "" for the private stream). */
  position(stream: string): Readonly<Position> | undefined {
    const p = this.streams.get(stream)?.position;
    return p && { ...p };
  }

  /**
   * Starts connecting (and reconnecting until `close()`); resolves with the first
   * `connect` reply. Rejects if the client stops first.
   */
  connect(): Promise<ConnectOk> {
    const promise = new Promise<ConnectOk>((resolve, reject) => {
      if (this.currentState === "connected" && this.sessionInfo) {
        resolve(this.sessionInfo);
      } else {
        this.connectWaiters.push({ resolve, reject });
      }
    });
    if (this.currentState === "closed") {
      this.attempt = 0;
      void this.open();
    }
    return promise;
  }

  /** Stops for good: no reconnect; waiting and unanswered commands are rejected. */
  close(): void {
    this.stop(1000, "closed by the client");
  }

  // ------------------------------------------------------------------ commands

  /** Sends any command; resolves with its typed reply result, rejects with `PlenaryError`. */
  command<K extends CommandKind>(kind: K, body: CommandBody<K>): Promise<CommandResult<K>> {
    return new Promise<CommandResult<K>>((resolve, reject) => {
      if (this.currentState === "closed") {
        reject(local(ErrorCode.UNAVAILABLE, "the client is closed: call connect()"));
        return;
      }
      let sent = false;
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.queue = this.queue.filter((q) => q.pending !== pending);
        reject(
          sent
            ? local(ErrorCode.OUTCOME_UNKNOWN, `no reply to ${kind} within ${this.options.commandTimeoutMs} ms`)
            : local(ErrorCode.UNAVAILABLE, `not connected within ${this.options.commandTimeoutMs} ms`),
        );
      }, this.options.commandTimeoutMs);
      const pending: Pending = {
        kind,
        stream: streamOf(kind, body),
        onReply: (reply) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          try {
            resolve(this.resultOf(kind, reply) as never);
          } catch (error) {
            reject(error);
          }
        },
        onLost: (error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(error);
        },
      };
      const markSent = () => {
        sent = true;
      };
      if (this.ready()) {
        this.prepare(pending);
        this.transmit(kind, body, pending);
        markSent();
      } else {
        this.queue.push({ kind, body, pending, markSent });
      }
    });
  }

  /** Joins a context: resolves with its snapshot join. The client rejoins it on reconnect. */
  join(contextId: string): Promise<JoinOk> {
    return this.command("join", { contextId });
  }

  /** Leaves a context: its pushes stop and it is not rejoined. */
  leave(contextId: string) {
    return this.command("leave", { contextId });
  }

  /** Opens the private stream (private chat); it is reopened on reconnect. */
  openPrivate(): Promise<PrivateOk> {
    return this.command("privateOpen", {});
  }

  /** Closes the private stream. */
  closePrivate() {
    return this.command("leave", { contextId: PRIVATE_STREAM });
  }

  /** Posts a message; a `clientMsgId` is made up when missing, so a retry is safe. */
  send(body: CommandBody<"send">) {
    return this.command("send", withId(body, "clientMsgId"));
  }
  like(body: CommandBody<"like">) {
    return this.command("like", body);
  }
  unlike(body: CommandBody<"unlike">) {
    return this.command("unlike", body);
  }
  delete(body: CommandBody<"delete">) {
    return this.command("delete", body);
  }
  pin(body: CommandBody<"pin">) {
    return this.command("pin", body);
  }
  unpin(body: CommandBody<"unpin">) {
    return this.command("unpin", body);
  }
  block(body: CommandBody<"block">) {
    return this.command("block", body);
  }
  unblock(body: CommandBody<"unblock">) {
    return this.command("unblock", body);
  }
  ping() {
    return this.command("ping", {});
  }
  postUpdate(body: CommandBody<"postUpdate">) {
    return this.command("postUpdate", body);
  }
  /** Asks a Q&A question; a `clientMsgId` is made up when missing. */
  ask(body: CommandBody<"ask">) {
    return this.command("ask", withId(body, "clientMsgId"));
  }
  threadAction(body: CommandBody<"threadAction">) {
    return this.command("threadAction", body);
  }
  publishQa(body: CommandBody<"publishQa">) {
    return this.command("publishQa", body);
  }
  unpublish(body: CommandBody<"unpublish">) {
    return this.command("unpublish", body);
  }
  connection(body: CommandBody<"connection">) {
    return this.command("connection", body);
  }
  /** Sends a private message; a `clientMsgId` is made up when missing. */
  dmSend(body: CommandBody<"dmSend">) {
    return this.command("dmSend", withId(body, "clientMsgId"));
  }
  dmDelete(body: CommandBody<"dmDelete">) {
    return this.command("dmDelete", body);
  }
  dmRead(body: CommandBody<"dmRead">) {
    return this.command("dmRead", body);
  }
  dmHistory(body: CommandBody<"dmHistory">) {
    return this.command("dmHistory", body);
  }
  settings(body: CommandBody<"settings">) {
    return this.command("settings", body);
  }
  people(body: CommandBody<"people">) {
    return this.command("people", body);
  }
  saveInteraction(body: CommandBody<"saveInteraction">) {
    return this.command("saveInteraction", body);
  }
  interactionAction(body: CommandBody<"interactionAction">) {
    return this.command("interactionAction", body);
  }
  /** Votes; a `clientVoteId` is made up when missing, so a retry is safe. */
  vote(body: CommandBody<"vote">) {
    return this.command("vote", withId(body, "clientVoteId"));
  }
  react(body: CommandBody<"react">) {
    return this.command("react", body);
  }
  history(body: CommandBody<"history">) {
    return this.command("history", body);
  }
  /**
   * Extends this connection's expiry with a fresh token of the same user. The client
   * does this by itself ahead of `exp`; call it when you know better.
   */
  async refresh(token?: string) {
    const fresh = token ?? (await this.options.getToken());
    const ack = await this.command("refresh", { token: fresh });
    this.token = fresh;
    this.scheduleRefresh();
    return ack;
  }

  // ------------------------------------------------------------------ connection

  private setState(next: ConnectionState): void {
    const previous = this.currentState;
    if (previous === next) return;
    this.currentState = next;
    this.emit("state", next, previous);
  }

  /** Commands go out at once only when connected and every rejoin is answered. */
  private ready(): boolean {
    return this.currentState === "connected" && this.rejoinsInFlight === 0;
  }

  private async open(): Promise<void> {
    this.setState("connecting");
    let token: string;
    try {
      token = await this.tokenForConnect();
    } catch (error) {
      this.emit("error", asError(error, "getToken failed"));
      if (this.currentState === "connecting") this.reconnectLater(1006, "getToken failed", 0);
      return;
    }
    // close() may have been called while the token was fetched.
    if (this.currentState !== "connecting") return;

    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(this.options.url, [this.options.subprotocol]);
    } catch (error) {
      this.emit("error", asError(error, "WebSocket could not be created"));
      this.reconnectLater(1006, "WebSocket could not be created", 0);
      return;
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.connectTimer = setTimeout(
      () => this.dropSocket(socket, 1006, "connect timed out"),
      this.options.connectTimeoutMs,
    );
    socket.onopen = () => {
      this.transmit("connect", { token }, {
        kind: "connect",
        onReply: (reply) => this.onConnectReply(socket, token, reply),
        onLost: () => {},
      });
    };
    socket.onmessage = (event) => this.onData(socket, event.data);
    socket.onclose = (event) => this.onSocketClosed(socket, event.code, event.reason);
    // Browsers follow an error with a close (1006); Node 20's WebSocket does not when the
    // connection is refused. An error always means an abnormal closure, so act on it.
    socket.onerror = () => this.dropSocket(socket, 1006, "connection failed");
  }

  private async tokenForConnect(): Promise<string> {
    if (this.token) {
      const times = tokenTimes(this.token);
      const margin = this.refreshMargin(times);
      if (!times || times.expiresAtMs - margin > Date.now() + this.clockOffsetMs) {
        return this.token;
      }
    }
    this.token = await this.options.getToken();
    return this.token;
  }

  private onConnectReply(socket: WebSocketLike, token: string, reply: Reply): void {
    if (socket !== this.socket) return;
    clearTimeout(this.connectTimer);
    if (reply.result.case !== "connect") {
      // An error reply is followed by a close (4001, 4004…): the close decides.
      if (reply.result.case === "error") {
        this.emit("error", fromReplyError(reply.result.value));
      }
      return;
    }
    const session = reply.result.value;
    this.sessionInfo = session;
    this.clockOffsetMs = Number(session.serverTimeMs) - Date.now();
    this.attempt = 0;
    this.token = token;
    this.setState("connected");
    this.emit("connected", session);
    for (const waiter of this.connectWaiters.splice(0)) waiter.resolve(session);
    this.scheduleRefresh();
    this.rejoinAll();
    this.flushQueue();
  }

  /** After a reconnect: every stream rejoins from its position (PROTOCOL §5). */
  private rejoinAll(): void {
    for (const stream of this.streams.values()) {
      this.rejoin(stream, true);
    }
  }

  /**
   * Sends `join` (or `private_open`) with `since` for a stream and holds its pushes until
   * the answer. `blocking`: commands wait until it is answered (after a reconnect, a
   * command for the context would otherwise get NOT_JOINED).
   */
  private rejoin(stream: Stream, blocking: boolean): void {
    stream.joining = true;
    stream.held = [];
    if (blocking) this.rejoinsInFlight += 1;
    const since = stream.position && { epoch: stream.position.epoch, seq: stream.position.seq };
    const done = () => {
      if (!blocking) return;
      blocking = false;
      this.rejoinsInFlight -= 1;
      this.flushQueue();
    };
    const pending: Pending = {
      kind: stream.id === PRIVATE_STREAM ? "privateOpen" : "join",
      onReply: (reply) => {
        done();
        if (this.streams.get(stream.id) !== stream) return; // left meanwhile
        if (reply.result.case === "join" || reply.result.case === "privateOpen") {
          this.applyJoin(stream.id, reply.result.value, true);
          return;
        }
        const error =
          reply.result.case === "error"
            ? fromReplyError(reply.result.value)
            : local(ErrorCode.INTERNAL, `unexpected reply ${reply.result.case ?? "(none)"} to a rejoin`);
        if (isRetryable(error.code)) {
          // Still wanted: try again (the context moves, the node is busy…).
          setTimeout(() => {
            if (this.streams.get(stream.id) === stream && this.currentState === "connected") {
              this.rejoin(stream, false);
            }
          }, Math.max(error.retryAfterMs, 100));
          return;
        }
        this.streams.delete(stream.id);
        this.emit("lost", stream.id, error);
      },
      // The connection dropped: the next one rejoins it.
      onLost: () => done(),
    };
    if (stream.id === PRIVATE_STREAM) {
      this.transmit("privateOpen", { since }, pending);
    } else {
      this.transmit("join", { contextId: stream.id, since }, pending);
    }
  }

  private flushQueue(): void {
    while (this.ready() && this.queue.length > 0) {
      const item = this.queue.shift() as Queued;
      this.prepare(item.pending);
      this.transmit(item.kind, item.body, item.pending);
      item.markSent();
    }
  }

  /** Before an app's `join`/`private_open` goes out: hold the stream's pushes until its answer. */
  private prepare(pending: Pending): void {
    if (pending.kind !== "join" && pending.kind !== "privateOpen") return;
    const id = pending.stream ?? PRIVATE_STREAM;
    let stream = this.streams.get(id);
    if (!stream) {
      stream = { id, position: undefined, joining: true, held: [] };
      this.streams.set(id, stream);
    } else {
      stream.joining = true;
      stream.held = [];
    }
  }

  private transmit(kind: CommandKind, body: unknown, pending: Pending): void {
    const socket = this.socket;
    const id = this.nextId++;
    const frame = create(ClientFrameSchema, {
      id,
      command: { case: kind, value: body } as ClientFrame["command"],
    });
    this.pending.set(id, pending);
    this.options.trace?.("send", frame);
    try {
      socket?.send(encodeClientFrame(this.options.subprotocol, frame));
    } catch (error) {
      this.pending.delete(id);
      pending.onLost(local(ErrorCode.OUTCOME_UNKNOWN, `sending failed: ${asError(error, "").message}`));
    }
  }

  private onData(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(this.options.subprotocol, data);
    } catch (error) {
      this.emit("error", asError(error, "undecodable server frame"));
      return;
    }
    this.options.trace?.("receive", frame);
    if (frame.frame.case === "reply") {
      this.onReply(frame.frame.value);
    } else if (frame.frame.case === "push") {
      this.onPush(frame.frame.value);
    }
  }

  private onReply(reply: Reply): void {
    let id = reply.id;
    if (id === 0n) {
      // A frame the server could not parse: replies come in command order, so it is the
      // oldest command still waiting.
      const oldest = this.pending.keys().next();
      if (oldest.done) return;
      id = oldest.value;
    }
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (pending.stream !== undefined) this.afterStreamReply(pending.kind, pending.stream, reply);
    pending.onReply(reply);
  }

  /**
   * Keeps the followed streams in step with the app's own join, private_open and leave
   * (before the command's promise settles, so `snapshot` comes first).
   */
  private afterStreamReply(kind: CommandKind, id: string, reply: Reply): void {
    const result = reply.result;
    if (kind === "leave") {
      // Left, or was not joined (NOT_JOINED): either way no longer followed.
      if (result.case === "ack" || (result.case === "error" && result.value.code === ErrorCode.NOT_JOINED)) {
        this.streams.delete(id);
      }
      return;
    }
    if (result.case === "join" || result.case === "privateOpen") {
      this.applyJoin(id, result.value, false);
    } else {
      // A failed join leaves the context not joined, even one that was (PROTOCOL §3).
      this.streams.delete(id);
    }
  }

  private resultOf(kind: CommandKind, reply: Reply): unknown {
    const result = reply.result;
    if (result.case === "error") throw fromReplyError(result.value);
    if (result.case !== RESULT_OF[kind]) {
      throw local(ErrorCode.INTERNAL, `unexpected reply ${result.case ?? "(none)"} to ${kind}`);
    }
    return result.value;
  }

  // ------------------------------------------------------------------ pushes

  private onPush(push: Push): void {
    const stream = this.streams.get(push.contextId);
    if (!stream) return; // A straggler of a stream left meanwhile.
    if (stream.joining) {
      stream.held.push(push);
      return;
    }
    this.apply(stream, push);
  }

  /** Applies one push of a stream: once, in order, never moving back (PROTOCOL §4, §5). */
  private apply(stream: Stream, push: Push): void {
    if (push.seq > 0n) {
      const at = stream.position;
      if (at && at.epoch === push.epoch && push.seq <= at.seq) return; // duplicate
      stream.position = { epoch: push.epoch, seq: push.seq };
    }
    this.emit("push", push);
    const body = push.body;
    if (body.case) {
      (this.emit as (e: string, v: unknown, p: Push) => void)(body.case, body.value, push);
    }
    if (body.case === "resync" && !stream.joining) {
      // Pushes may have been missed: rejoin from the last position on this connection.
      this.rejoin(stream, false);
    }
  }

  /** A join or private_open answered: missed pushes or the snapshot, then held pushes. */
  private applyJoin(id: string, ok: JoinOk | PrivateOk, rejoin: boolean): void {
    let stream = this.streams.get(id);
    if (!stream) {
      stream = { id, position: undefined, joining: true, held: [] };
      this.streams.set(id, stream);
    }
    if (ok.recovered) {
      for (const push of ok.missed) this.apply(stream, push);
    }
    stream.position = { epoch: ok.epoch, seq: ok.seq };
    stream.joining = false;
    if (!ok.recovered) {
      if (ok.$typeName === "plenary.v1.JoinOk") {
        this.emit("snapshot", id, ok.snapshot ?? create(SnapshotSchema), ok);
      } else {
        this.emit("privateSnapshot", ok.snapshot ?? create(PrivateSnapshotSchema), ok);
      }
    } else if (rejoin) {
      this.emit("recovered", id, ok.missed.length);
    }
    const held = stream.held;
    stream.held = [];
    for (const push of held) this.apply(stream, push);
  }

  // ------------------------------------------------------------------ closing

  /**
   * Gives up on a socket. Its handlers go first: closing a socket that is still
   * connecting fires `error` again, synchronously, in Node's WebSocket.
   */
  private dropSocket(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.onSocketClosed(socket, code, reason);
    try {
      socket.close(1000, reason.slice(0, 120));
    } catch {
      // Already closing.
    }
  }

  private onSocketClosed(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    clearTimeout(this.connectTimer);
    clearTimeout(this.refreshTimer);
    this.failSent();
    if (this.currentState === "closed") return;
    const verdict = closeVerdict(code);
    if (!verdict.reconnect) {
      this.stop(code, reason || `closed with ${code}`);
      return;
    }
    if (verdict.newToken) this.token = undefined;
    this.attempt = Math.max(this.attempt, verdict.minAttempt);
    this.reconnectLater(code, reason, this.attempt);
  }

  private reconnectLater(code: number, reason: string, attempt: number): void {
    const delayMs = backoffDelay(attempt, {
      minDelayMs: this.options.minReconnectDelayMs,
      maxDelayMs: this.options.maxReconnectDelayMs,
    });
    this.attempt = attempt + 1;
    this.setState("disconnected");
    this.emit("disconnected", { code, reason, willReconnect: true, delayMs });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.currentState === "disconnected") void this.open();
    }, delayMs);
  }

  /** Commands sent on a dropped connection may or may not have taken effect. */
  private failSent(): void {
    const lost = [...this.pending.values()];
    this.pending.clear();
    this.rejoinsInFlight = 0;
    for (const stream of [...this.streams.values()]) {
      stream.joining = false;
      stream.held = [];
      // A first join that got no answer: the app was told it failed, so do not follow it.
      if (!stream.position) this.streams.delete(stream.id);
    }
    for (const pending of lost) {
      pending.onLost(local(ErrorCode.OUTCOME_UNKNOWN, `the connection dropped before the reply to ${pending.kind}`));
    }
  }

  private stop(code: number, reason: string): void {
    const wasClosed = this.currentState === "closed";
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    clearTimeout(this.refreshTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.setState("closed");
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(1000, "client closed");
      } catch {
        // Already closing.
      }
    }
    this.failSent();
    this.streams.clear();
    const queued = this.queue.splice(0);
    for (const item of queued) item.pending.onLost(local(ErrorCode.UNAVAILABLE, `the client stopped: ${reason}`));
    const error = local(ErrorCode.UNAVAILABLE, `the client stopped: ${reason} (${code})`);
    for (const waiter of this.connectWaiters.splice(0)) waiter.reject(error);
    if (!wasClosed) this.emit("disconnected", { code, reason, willReconnect: false, delayMs: 0 });
  }

  // ------------------------------------------------------------------ token refresh

  private refreshMargin(times: ReturnType<typeof tokenTimes>): number {
    if (this.options.refreshMarginMs !== undefined) return this.options.refreshMarginMs;
    if (!times) return 0;
    const issued = times.issuedAtMs ?? Date.now() + this.clockOffsetMs;
    return Math.min(30_000, Math.max(0, (times.expiresAtMs - issued) * 0.1));
  }

  /** Plans the next `refresh` ahead of the current token's `exp` (in server time). */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const times = this.token ? tokenTimes(this.token) : undefined;
    if (!times || !this.options.autoRefresh) return;
    const serverNow = Date.now() + this.clockOffsetMs;
    const delay = Math.max(0, times.expiresAtMs - this.refreshMargin(times) - serverNow);
    // setTimeout's limit is 2^31 - 1 ms (24.8 days).
    this.refreshTimer = setTimeout(() => void this.refreshNow(), Math.min(delay, 2 ** 31 - 1));
  }

  private async refreshNow(): Promise<void> {
    if (this.currentState !== "connected") return;
    let fresh: string;
    try {
      fresh = await this.options.getToken();
    } catch (error) {
      this.emit("error", asError(error, "getToken failed"));
      // The server closes with 4001 at expiry; the reconnect asks again.
      return;
    }
    // Whatever the server says, the next connect uses the fresh token.
    this.token = fresh;
    try {
      await this.command("refresh", { token: fresh });
      this.scheduleRefresh();
    } catch (error) {
      // A server without `refresh` (UNKNOWN_COMMAND) closes with 4001 at expiry and the
      // client reconnects with the fresh token; nothing is lost. Report it anyway.
      this.emit("error", asError(error, "refresh failed"));
    }
  }
}

function streamOf(kind: CommandKind, body: unknown): string | undefined {
  if (kind === "privateOpen") return PRIVATE_STREAM;
  if (kind === "join" || kind === "leave") return (body as { contextId?: string }).contextId ?? "";
  return undefined;
}

function local(code: ErrorCode, message: string): PlenaryError {
  return new PlenaryError(code, message, 0, true);
}

function fromReplyError(error: { code: ErrorCode; message: string; retryAfterMs: bigint }): PlenaryError {
  return new PlenaryError(error.code, error.message, Number(error.retryAfterMs));
}

function isRetryable(code: ErrorCode): boolean {
  return code === ErrorCode.UNAVAILABLE || code === ErrorCode.RATE_LIMITED || code === ErrorCode.OUTCOME_UNKNOWN;
}

function asError(error: unknown, context: string): Error {
  if (error instanceof Error) return error;
  return new Error(`${context}: ${String(error)}`);
}

/** Fills a made-up idempotency id when the caller left it empty. */
function withId<T extends object, F extends string>(body: T, field: F): T {
  const current = (body as Record<string, unknown>)[field];
  if (typeof current === "string" && current !== "") return body;
  return { ...body, [field]: randomId() };
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
