// Reads a JWT's claims without verifying it: the client only needs `exp` (and `iat`) to
// know when to refresh; the server verifies.

export interface TokenTimes {
  /** `exp`, Unix ms. */
  expiresAtMs: number;
  /** `iat`, Unix ms, when present. */
  issuedAtMs: number | undefined;
}

export function tokenTimes(token: string): TokenTimes | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { exp?: unknown; iat?: unknown };
    if (typeof claims.exp !== "number") return undefined;
    return {
      expiresAtMs: claims.exp * 1000,
      issuedAtMs: typeof claims.iat === "number" ? claims.iat * 1000 : undefined,
    };
  } catch {
    return undefined;
  }
}
