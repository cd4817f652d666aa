// A few helpers to build DOM without a framework. Text always goes in as text nodes,
// never as HTML.

type Child = Node | string | number | null | undefined | false;
type Children = Child | Children[];
type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Children[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else if (key === "class") el.className = String(value);
    else if (key === "value") (el as HTMLInputElement).value = String(value);
    else if (key === "checked") (el as HTMLInputElement).checked = !!value;
    // Through the CSSOM: the page's policy refuses inline `style` attributes.
    else if (key === "style") el.style.cssText = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity as 1)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/**
 * Replaces the children of `el`. A view re-renders on every push and re-attaches its
 * composers; a focused field that is detached loses focus (and what is typed next), so
 * the focus and the selection come back with it.
 */
export function fill(el: Element, ...children: Children[]): void {
  const active = document.activeElement;
  const field = active instanceof HTMLTextAreaElement || active instanceof HTMLInputElement ? active : null;
  const selection = field && field.selectionStart !== null ? [field.selectionStart, field.selectionEnd ?? field.selectionStart] : null;
  el.replaceChildren(...(children.flat(Infinity as 1).filter((c) => c !== null && c !== undefined && c !== false) as (Node | string)[]).map((c) => (c instanceof Node ? c : String(c))));
  if (field && field !== document.activeElement && field.isConnected) {
    field.focus({ preventScroll: true });
    if (selection) field.setSelectionRange(selection[0], selection[1]);
  }
}

export function time(ms: bigint | number): string {
  return ms ? new Date(Number(ms)).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

/** A person's name as shown: given and family name, or the user id when both are empty. */
export function name(author: { givenName?: string; familyName?: string; userId?: string } | undefined): string {
  if (!author) return "";
  return [author.givenName, author.familyName].filter(Boolean).join(" ") || author.userId || "";
}

let toasts: HTMLElement | null = null;

/** A toast in the lower left corner, gone after a few seconds or on its ✕. */
export function toast(title: string, text: string, kind = "info"): void {
  toasts ??= document.getElementById("toasts");
  if (!toasts) return;
  const el = h("div", { class: `toast ${kind}`, role: "status", "data-testid": "toast" },
    h("button", { class: "close", "aria-label": "Dismiss", onclick: () => el.remove() }, "✕"),
    title ? h("strong", {}, title) : null,
    h("div", {}, text),
  );
  toasts.append(el);
  setTimeout(() => el.remove(), 6000);
}

/** Runs a command from a button or form; a refusal becomes an error toast. */
export async function attempt(what: Promise<unknown>): Promise<boolean> {
  return (await result(what)) !== undefined;
}

/** The same, with the command's result (undefined when it was refused). */
export async function result<T>(what: Promise<T>): Promise<T | undefined> {
  try {
    return (await what) ?? (true as T);
  } catch (e) {
    const err = e as Error & { codeName?: string };
    toast("Not done", `${err.message}${err.codeName ? ` (${err.codeName.replace("ERROR_CODE_", "")})` : ""}`, "error");
    return undefined;
  }
}

let ids = 0;
/** A fresh client id for an idempotent resend (`client_msg_id`, `client_vote_id`). */
export function clientId(prefix: string): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `${prefix}-${Date.now().toString(36)}-${(ids++).toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
}
