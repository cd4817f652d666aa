// The app: asks for a token (pasted, `#token=` in the URL, or — only when the gateway
// runs with --demo-tokens — a demo token), then shows the attendee or moderator view
// of one webinar (context), chosen by the role the gateway gives.

import { chatView } from "./chat";
import { attempt, fill, h, toast } from "./dom";
import { feedView, KIND_LABEL, specOf, titleOf } from "./feed";
import { interactionsView } from "./interactions";
import { privateView } from "./private";
import { qaView } from "./qa";
import { InteractionStatus, PeerStatus, Reaction, type Reactions, type Role } from "./sdk";
import { Session } from "./session";
import { byId } from "./state";

const REACTIONS: [Reaction, string][] = [
  [Reaction.CLAP, "👏"],
  [Reaction.HEART, "❤️"],
  [Reaction.LAUGH, "😂"],
  [Reaction.THUMBS_UP, "👍"],
  [Reaction.WOW, "😮"],
];

const root = document.getElementById("root")!;
const params = new URLSearchParams(location.hash.slice(1));

function wsUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

async function demoAvailable(): Promise<boolean> {
  // Without --demo-tokens the path does not exist (404); with it, no `sub` is a 400.
  const r = await fetch("/app/demo-token", { cache: "no-store" }).catch(() => null);
  return r?.status === 400;
}

async function login(): Promise<void> {
  // This tab's token survives a reload (sessionStorage: the tab only, gone with it).
  const token = params.get("token") ?? sessionStorage.getItem("plenary.token");
  const context = params.get("context") ?? sessionStorage.getItem("plenary.context") ?? "webinar-1";
  if (token) {
    // The token leaves the address bar (and so the history) once read.
    history.replaceState(null, "", location.pathname + location.search);
    return start(token, context);
  }
  const contextInput = h("input", { type: "text", value: context, "data-testid": "login-context" });
  const tokenInput = h("textarea", { rows: 4, placeholder: "Paste an access token (JWT)", "data-testid": "login-token" });
  const demo = h("div", { class: "demo" });
  const form = h("form", { class: "card login", "data-testid": "login", onsubmit: (e: Event) => {
    e.preventDefault();
    if (tokenInput.value.trim()) void start(tokenInput.value.trim(), contextInput.value.trim() || "webinar-1");
  } },
    h("h1", {}, "Plenary"),
    h("label", { class: "field" }, h("span", {}, "Webinar (context id)"), contextInput),
    h("label", { class: "field" }, h("span", {}, "Access token"), tokenInput),
    h("button", { class: "primary", type: "submit", "data-testid": "login-submit" }, "Join"),
    demo);
  fill(root, form);
  if (await demoAvailable()) {
    const sub = h("input", { type: "text", placeholder: "user id, e.g. u-ann", "data-testid": "demo-sub" });
    const display = h("input", { type: "text", placeholder: "Ann Lee", "data-testid": "demo-name" });
    const moderator = h("input", { type: "checkbox", "data-testid": "demo-moderator" });
    fill(demo, h("fieldset", {}, h("legend", {}, "Demo mode (--demo-tokens is on)"),
      h("label", { class: "field" }, h("span", {}, "User id"), sub),
      h("label", { class: "field" }, h("span", {}, "Name"), display),
      h("label", {}, moderator, " Moderator of this webinar"),
      h("button", { type: "button", "data-testid": "demo-token", onclick: async () => {
        const q = new URLSearchParams({ sub: sub.value.trim(), name: display.value.trim() });
        if (moderator.checked) q.set("moderates", contextInput.value.trim());
        const r = await fetch(`/app/demo-token?${q}`, { cache: "no-store" });
        const text = (await r.text()).trim();
        if (r.ok) tokenInput.value = text;
        else toast("No token", text, "error");
      } }, "Get a demo token")));
  }
}

async function start(token: string, contextId: string): Promise<void> {
  sessionStorage.setItem("plenary.token", token);
  sessionStorage.setItem("plenary.context", contextId);
  const session = new Session(wsUrl(), token, contextId);
  const status = h("span", { class: "status", "data-testid": "status" });
  const title = h("h1", { "data-testid": "context-name" }, contextId);
  const who = h("span", { class: "who", "data-testid": "who" });
  const tabs = h("nav", { class: "tabs", role: "tablist" });
  const main = h("main", {});
  const settings = h("div", { class: "settings card", hidden: true, "data-testid": "settings" });
  const reactionsBar = h("div", { class: "reactions", "data-testid": "reactions" });
  const burst = h("div", { class: "burst", "aria-hidden": "true" });
  fill(root, h("header", {}, title, who, status,
    h("button", { class: "icon", title: "Settings", "data-testid": "settings-button", onclick: () => (settings.hidden = !settings.hidden) }, "⋯")),
    settings, tabs, main, reactionsBar, burst);

  const views = new Map<string, { el: HTMLElement; render: () => void; label: string; badge?: () => number }>();
  let active = "chat";
  let built: Role | undefined;
  let scheduled = false;
  const updates = h("ul", { class: "updates", "data-testid": "updates" });
  const updatesView = { el: h("section", { class: "view", "data-testid": "updates-view" }), render: () => {} };

  const build = () => {
    const role = session.ctx.role;
    if (built === role) return;
    built = role;
    views.clear();
    const add = (key: string, label: string, view: { el: HTMLElement; render: () => void }, badge?: () => number) => views.set(key, { ...view, label, badge });
    add("chat", "Chat", chatView(session, "chat"));
    add("qa", "Q&A", qaView(session));
    add("feed", "Feed", feedView(session));
    if (session.ctx.isModerator) {
      add("backchannel", "Backchannel", chatView(session, "backchannel"));
      add("interactions", "Interactions", interactionsView(session));
    }
    add("updates", "Updates", buildUpdates());
    const priv = privateView(session);
    add("private", "Private chat", priv, priv.unread);
  };

  function buildUpdates() {
    const titleInput = h("input", { type: "text", maxlength: 150, placeholder: "Title (optional)", "data-testid": "update-title" });
    const text = h("textarea", { rows: 2, maxlength: 2000, placeholder: "Notify everyone…", "data-testid": "update-text" });
    const asToast = h("input", { type: "checkbox", checked: true });
    const form = session.ctx.isModerator ? h("div", { class: "card" }, titleInput, text,
      h("div", { class: "row" }, h("label", {}, asToast, " Show as a toast"),
        h("button", { class: "primary", "data-testid": "post-update", onclick: async () => {
          if (await attempt(session.client.postUpdate({ contextId: session.ctx.id, title: titleInput.value, text: text.value, toast: asToast.checked }))) titleInput.value = text.value = "";
        } }, "Send update"))) : null;
    fill(updatesView.el, form, updates);
    updatesView.render = () => {
      const all = [...session.ctx.updates.values()].sort(byId((u) => u.id)).reverse();
      fill(updates, all.length ? all.map((u) => h("li", { class: "card", "data-testid": "update" }, u.title ? h("strong", {}, u.title) : null, h("p", {}, u.text))) : h("li", { class: "empty" }, "No updates yet."));
    };
    return updatesView;
  }

  const renderSettings = () => {
    const s = session.priv.settings;
    const toggle = (key: "toast" | "privateChat" | "showLastName", label: string) =>
      h("label", { class: "row" }, h("input", { type: "checkbox", checked: s[key], "data-testid": `setting-${key}`, onchange: (e: Event) =>
        attempt(session.client.settings({ [key]: (e.target as HTMLInputElement).checked })) }), ` ${label}`);
    fill(settings, h("strong", {}, "Settings"),
      toggle("toast", "Allow toast notifications"),
      toggle("privateChat", "Enable private chat"),
      toggle("showLastName", "Show my last name"));
  };

  const renderAll = () => {
    scheduled = false;
    build();
    const ctx = session.ctx;
    fill(title, ctx.name || ctx.id);
    fill(who, session.userId ? `${session.userId} · ${ctx.isModerator ? "Moderator" : "Attendee"}` : "");
    status.dataset.state = session.status;
    fill(status, { connecting: "Connecting…", connected: "● Live", reconnecting: "Reconnecting…", refused: `Refused: ${session.refusal}` }[session.status]);
    if (session.status === "refused") sessionStorage.removeItem("plenary.token");
    if (!views.has(active)) active = "chat";
    fill(tabs, [...views].map(([key, v]) => {
      const badge = v.badge?.() ?? 0;
      return h("button", { role: "tab", class: key === active ? "active" : "", "aria-selected": key === active ? "true" : "false", "data-testid": `tab-${key}`,
        onclick: () => { active = key; renderAll(); } }, v.label, badge ? h("span", { class: "unread" }, badge) : null);
    }));
    const view = views.get(active)!;
    if (main.firstChild !== view.el) fill(main, view.el);
    view.render();
    renderSettings();
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(renderAll);
    }
  };

  // Moderators send a crowd reaction (shown big) with Shift held.
  fill(reactionsBar, REACTIONS.map(([reaction, emoji]) =>
    h("button", { class: "reaction", title: Reaction[reaction].toLowerCase(), "data-testid": `react-${Reaction[reaction]}`, onclick: (e: Event) =>
      attempt(session.client.react({ contextId: session.ctx.id, reaction, crowd: session.ctx.isModerator && (e as MouseEvent).shiftKey })) }, emoji)),
    h("span", { class: "muted hint", "data-testid": "reaction-counts" }, ""));

  session.onChange(schedule);
  session.onPush((push) => {
    const body = push.body;
    switch (body.case) {
      case "reactions":
        showReactions(burst, body.value);
        break;
      // The server sends toast: false to users who turned toasts off.
      case "update":
        if (body.value.toast) toast(body.value.title || "Update", body.value.text);
        break;
      case "interaction": {
        const i = body.value;
        if (i.toast && i.status === InteractionStatus.PUBLISHED) toast(`New ${KIND_LABEL[specOf(i).case ?? "poll"].toLowerCase()}`, titleOf(i));
        break;
      }
      case "peerUpdate": {
        const peer = body.value.peer;
        if (peer?.status === PeerStatus.REQUEST_RECEIVED && !body.value.message && session.priv.settings.toast) {
          toast("Private chat", `${peer.name || peer.userId} wants to connect`);
        }
        break;
      }
    }
  });
  (window as unknown as { plenary: Session }).plenary = session; // for tests and the console
  void session.start();
  schedule();
}

/** A reactions summary: its emoji float up, spread over the window they came in. */
function showReactions(burst: HTMLElement, r: Reactions): void {
  const all = [...r.counts.map((c) => ({ ...c, crowd: false })), ...r.crowd.map((c) => ({ ...c, crowd: true }))];
  for (const c of all) {
    const emoji = REACTIONS.find(([k]) => k === c.reaction)?.[1] ?? "";
    for (let n = 0; n < Math.min(c.count, 12); n++) {
      setTimeout(() => {
        const el = h("span", { class: `float${c.crowd ? " crowd" : ""}`, style: `left:${10 + Math.random() * 80}%` }, emoji);
        burst.append(el);
        setTimeout(() => el.remove(), 2000);
      }, Math.random() * (r.windowMs || 300));
    }
  }
  const counter = document.querySelector<HTMLElement>(".reactions .hint");
  if (!counter) return;
  counter.textContent = all.map((c) => `${REACTIONS.find(([k]) => k === c.reaction)?.[1]}×${c.count}`).join(" ");
  // The last window's counts, for a moment: reactions are live only.
  clearTimeout(Number(counter.dataset.timer));
  counter.dataset.timer = String(setTimeout(() => (counter.textContent = ""), 3000));
}

void login();
