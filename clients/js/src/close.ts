// What a close code asks of the client (PROTOCOL §7).

export interface CloseVerdict {
  /** Reconnect at all. False: the client stops (state "closed"); retrying would loop. */
  reconnect: boolean;
  /** The token was refused or expired: get a new one before reconnecting. */
  newToken: boolean;
  /** The server is at a limit or was flooded: wait at least this many back-off steps. */
  minAttempt: number;
}

export function closeVerdict(code: number): CloseVerdict {
  switch (code) {
    // Protocol error, policy refusal, oversized frame: a client bug, not a network one.
    case 4000:
    case 4003:
    case 4009:
      return { reconnect: false, newToken: false, minAttempt: 0 };
    case 4001:
      return { reconnect: true, newToken: true, minAttempt: 0 };
    // Too many connections of this user, node full, rate-limit flood: back off.
    case 4004:
    case 4013:
    case 4029:
      return { reconnect: true, newToken: false, minAttempt: 4 };
    // 1006 (network), 1012 (restart), 4002, 4008 (slow consumer), 4010 (idle), others:
    // reconnect with jittered back-off and recover with `since`.
    default:
      return { reconnect: true, newToken: false, minAttempt: 0 };
  }
}
