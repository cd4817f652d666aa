// Errors of commands: the server's typed `Error` reply, or the SDK's own verdict when no
// reply can come (time-out, lost connection, closed client), expressed in the same codes.

import { ErrorCode } from "./gen/plenary/v1/client_pb.js";

/** Name of an `ErrorCode` value, e.g. `"ERROR_CODE_NOT_JOINED"`. */
export type ErrorCodeName = `ERROR_CODE_${keyof typeof ErrorCode}`;

/**
 * A command failed. `code` is the protocol's `ErrorCode` (PROTOCOL §6); `local` is true
 * when the SDK decided it without a reply from the server:
 * - `ERROR_CODE_OUTCOME_UNKNOWN`: the command was sent, but the connection dropped (or the
 *   time-out passed) before its reply. It may have taken effect: retry it unchanged (sends
 *   are idempotent by `clientMsgId`, votes by `clientVoteId`).
 * - `ERROR_CODE_UNAVAILABLE`: the command was never sent (the client was closed, or the
 *   time-out passed while it waited for a connection).
 */
export class PlenaryError extends Error {
  override readonly name = "PlenaryError";
  readonly code: ErrorCode;
  readonly retryAfterMs: number;
  readonly local: boolean;

  constructor(code: ErrorCode, message: string, retryAfterMs = 0, local = false) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
    this.local = local;
  }

  /** The code's name, e.g. `"ERROR_CODE_FORBIDDEN"`. */
  get codeName(): ErrorCodeName {
    return `ERROR_CODE_${ErrorCode[this.code]}` as ErrorCodeName;
  }

  override toString(): string {
    return `PlenaryError(${this.codeName}): ${this.message}`;
  }
}
