// The app's one way to the gateway: connects, joins the webinar and opens the private
// stream, keeps the state (state.ts) from what arrives, and recovers after a drop.
// This is the only module that talks to the connection; the views call `command` and
// read `ctx` / `priv`.

import { ContextState, PrivateState, type Json } from "./state";

export type Status = "connecting" | "connected" | "reconnecting" | "refused";

export interface CommandError extends Error {
  code: string;
  retryAfterMs: number;
}

type Listener = () => void;

export class Session {
  readonly ctx: ContextState;
  readonly priv = new PrivateState();
  userId = "";
  status: Status = "connecting";
  refusal = "";

  private ws: WebSocket | null = null;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  private position: { epoch: number; seq: number } | null = null;
  private privatePosition: { epoch: number; seq: number } | null = null;
  private attempt = 0;
  private closed = false;
  private changed = new Set<Listener>();
  private pushed = new Set<(push: Json) => void>();

  constructor(
    private readonly url: string,
    private readonly token: string,
    contextId: string,
  ) {
    this.ctx = new ContextState(contextId);
  }

  /** Called after every change of what the views show. */
  onChange(f: Listener): void {
    this.changed.add(f);
  }

  /** Every push as it arrives (toasts, reactions), after it was applied. */
  onPush(f: (push: Json) => void): void {
    this.pushed.add(f);
  }

  /** Tells the views that something changed here (a command's own result). */
  refresh(): void {
    this.emit();
  }

  start(): void {
    this.open();
  }

  stop(): void {
    this.closed = true;
    this.ws?.close(1000);
  }

  /** One command; resolves with the reply's result, rejects with its error. */
  command(name: string, body: Json): Promise<Json> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.status !== "connected") {
      return Promise.reject(this.error("DISCONNECTED", "not connected: try again in a moment"));
    }
    return this.raw(name, body);
  }

  private raw(name: string, body: Json): Promise<Json> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws!.send(JSON.stringify({ id, [name]: body }));
    });
  }

  private error(code: string, message: string, retryAfterMs = 0): CommandError {
    return Object.assign(new Error(message), { code, retryAfterMs });
  }

  private emit(): void {
    for (const f of this.changed) f();
  }

  private open(): void {
    const ws = new WebSocket(this.url, "plenary.v1.json");
    this.ws = ws;
    ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    ws.onopen = () => void this.handshake(ws);
    ws.onclose = (e) => this.dropped(ws, e.code, e.reason);
  }

  private async handshake(ws: WebSocket): Promise<void> {
    try {
      const ok = await this.raw("connect", { token: this.token });
      this.userId = ok.user_id;
      const join = await this.raw("join", {
        context_id: this.ctx.id,
        ...(this.position ? { since: this.position } : {}),
      });
      this.ctx.applyJoin(join);
      this.position = { epoch: join.epoch, seq: Math.max(join.seq, this.lastSeq(join.missed)) };
      const priv = await this.raw("private_open", this.privatePosition ? { since: this.privatePosition } : {});
      this.priv.applyOpen(priv);
      this.privatePosition = { epoch: priv.epoch, seq: priv.seq };
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.status = "connected";
      this.emit();
    } catch (e) {
      const err = e as CommandError;
      if (err.code === "ERROR_CODE_UNAUTHORIZED" || err.code === "ERROR_CODE_TOKEN_EXPIRED") {
        this.refusal = err.message;
      }
      ws.close();
    }
  }

  private lastSeq(pushes: Json[] | undefined): number {
    return Math.max(0, ...(pushes ?? []).map((p) => p.seq ?? 0));
  }

  private receive(frame: Json): void {
    if (frame.reply) {
      const { id, error, ...result } = frame.reply;
      const waiting = this.pending.get(id);
      if (!waiting) return;
      this.pending.delete(id);
      if (error) {
        waiting.reject(this.error(error.code, error.message, error.retry_after_ms ?? 0));
      } else {
        const key = Object.keys(result)[0];
        waiting.resolve(result[key]);
      }
      return;
    }
    const push = frame.push;
    if (!push) return;
    if (push.resync) {
      void this.resync(push.context_id);
      return;
    }
    if (push.context_id === "") {
      this.priv.applyPush(push);
      if (push.seq > 0) this.privatePosition = { epoch: push.epoch, seq: push.seq };
    } else if (push.context_id === this.ctx.id) {
      this.ctx.applyPush(push);
      if (push.seq > 0) this.position = { epoch: push.epoch, seq: push.seq };
    }
    for (const f of this.pushed) f(push);
    this.emit();
  }

  private async resync(contextId: string): Promise<void> {
    try {
      if (contextId === "") {
        this.priv.applyOpen(await this.raw("private_open", { since: this.privatePosition }));
      } else {
        const join = await this.raw("join", { context_id: contextId, since: this.position });
        this.ctx.applyJoin(join);
        this.position = { epoch: join.epoch, seq: Math.max(join.seq, this.lastSeq(join.missed)) };
      }
      this.emit();
    } catch {
      this.ws?.close();
    }
  }

  private dropped(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    for (const [, waiting] of this.pending) waiting.reject(this.error("DISCONNECTED", "connection lost"));
    this.pending.clear();
    if (this.closed) return;
    if (code === 4001 || this.refusal) {
      this.status = "refused";
      this.refusal ||= reason || "the token was refused";
      this.emit();
      return;
    }
    this.status = "reconnecting";
    this.emit();
    // Exponential back-off with jitter (PROTOCOL §5): 0.5 s doubling to 10 s.
    const delay = Math.min(10_000, 500 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    setTimeout(() => this.open(), delay);
  }
}
