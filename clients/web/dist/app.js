// src/dom.ts
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === void 0 || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else if (key === "class") el.className = String(value);
    else if (key === "value") el.value = String(value);
    else if (key === "checked") el.checked = !!value;
    else if (key === "style") el.style.cssText = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === void 0 || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}
function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== void 0 && c !== false).map((c) => c instanceof Node ? c : String(c)));
}
function time(ms) {
  return ms ? new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}
function name(author) {
  return [author.given_name, author.family_name].filter(Boolean).join(" ") || author.user_id || "";
}
var toasts = null;
function toast(title, text, kind = "info") {
  toasts ??= document.getElementById("toasts");
  if (!toasts) return;
  const el = h(
    "div",
    { class: `toast ${kind}`, role: "status", "data-testid": "toast" },
    h("button", { class: "close", "aria-label": "Dismiss", onclick: () => el.remove() }, "✕"),
    title ? h("strong", {}, title) : null,
    h("div", {}, text)
  );
  toasts.append(el);
  setTimeout(() => el.remove(), 6e3);
}
async function attempt(what) {
  try {
    await what;
    return true;
  } catch (e) {
    const err = e;
    toast("Not done", `${err.message}${err.code ? ` (${err.code.replace("ERROR_CODE_", "")})` : ""}`, "error");
    return false;
  }
}
var ids = 0;
function clientId(prefix) {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `${prefix}-${Date.now().toString(36)}-${(ids++).toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
}

// src/chat.ts
function messageItem(session, m, place, onReply) {
  const ctx = session.ctx;
  const mine = m.author.user_id === session.userId && !!session.userId;
  const canDelete = mine || ctx.isModerator && place.kind !== "backchannel";
  const replied = m.reply_to ? ctx.find(m.reply_to) : void 0;
  const liked = ctx.liked.has(m.id);
  const like = async () => {
    const reply = await attemptValue(session.command(liked ? "unlike" : "like", { context_id: ctx.id, message_id: m.id }));
    if (reply) {
      if (liked) ctx.liked.delete(m.id);
      else ctx.liked.add(m.id);
      const held = ctx.find(m.id);
      if (held) held.like_count = reply.like_count;
      session.ctx.applyPush({ likes: { counts: [{ message_id: m.id, count: reply.like_count }] } });
      render();
    }
  };
  const render = () => item.replaceWith(messageItem(session, ctx.find(m.id) ?? m, place, onReply));
  const pinned = ctx.pinned.includes(m.id);
  const item = h(
    "li",
    { class: `msg${mine ? " mine" : ""}${m.author.moderator ? " by-moderator" : ""}`, "data-testid": "message", "data-id": m.id },
    h(
      "div",
      { class: "meta" },
      h("span", { class: "author" }, m.author.as_context ? `${name(m.author)} (answer)` : name(m.author)),
      m.author.moderator && !m.author.as_context ? h("span", { class: "badge" }, "Moderator") : null,
      h("span", { class: "time" }, time(m.sent_at_ms)),
      pinned ? h("span", { class: "badge pin" }, "📌 Pinned") : null
    ),
    m.reply_to ? h("div", { class: "reply-ref" }, "↪ ", replied ? `${name(replied.author)}: ${replied.text.slice(0, 80)}` : "an earlier message") : null,
    h("div", { class: "text", "data-testid": "message-text" }, m.text),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        { class: `like${liked ? " on" : ""}`, "aria-pressed": liked ? "true" : "false", title: liked ? "Unlike" : "Like", "data-testid": "like", onclick: like },
        "♥ ",
        h("span", { "data-testid": "like-count" }, m.like_count)
      ),
      onReply ? h("button", { title: "Reply", "data-testid": "reply", onclick: () => onReply(m) }, "Reply") : null,
      canDelete ? h("button", { title: "Delete", "data-testid": "delete", onclick: () => attempt(session.command("delete", { context_id: ctx.id, message_id: m.id })) }, "🗑") : null,
      ctx.isModerator && place.kind === "chat" ? h("button", { title: pinned ? "Unpin" : "Pin", "data-testid": pinned ? "unpin" : "pin", onclick: () => attempt(session.command(pinned ? "unpin" : "pin", { context_id: ctx.id, message_id: m.id })) }, pinned ? "Unpin" : "📌") : null,
      ctx.isModerator && !mine && !m.author.as_context && m.author.user_id && place.kind !== "backchannel" ? h("button", { title: `Block ${name(m.author)}`, "data-testid": "block", onclick: () => attempt(session.command("block", { context_id: ctx.id, user_id: m.author.user_id })) }, "⛔") : null
    )
  );
  return item;
}
async function attemptValue(p) {
  let value = null;
  const ok = await attempt(p.then((v) => value = v));
  return ok ? value : null;
}
function composer(placeholder, send, testid = "composer") {
  let replyTo = null;
  const input = h("textarea", { placeholder, rows: 2, "data-testid": `${testid}-input`, maxlength: 2e3 });
  const replying = h("div", { class: "replying" });
  const submit = async () => {
    const text = input.value;
    if (!text.trim()) return;
    button.disabled = true;
    try {
      if (await send(text, replyTo?.id ?? 0)) {
        input.value = "";
        setReply(null);
      }
    } finally {
      button.disabled = false;
    }
  };
  const button = h("button", { class: "primary", "data-testid": `${testid}-send`, onclick: submit }, "Send");
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void submit();
    }
  });
  const setReply = (m) => {
    replyTo = m;
    fill(replying, m ? [`Replying to ${name(m.author)}: “${m.text.slice(0, 60)}” `, h("button", { class: "link", onclick: () => setReply(null) }, "cancel")] : []);
    if (m) input.focus();
  };
  const el = h("div", { class: "composer" }, replying, h("div", { class: "row" }, input, button));
  return { el, setReply, input };
}
async function sendMessage(session, place, text, replyTo) {
  const body = { context_id: session.ctx.id, text, client_msg_id: clientId("m"), reply_to: replyTo };
  if (place.kind === "backchannel") body.backchannel = true;
  if (place.kind === "thread") body.thread_id = place.threadId;
  return attempt(session.command("send", body));
}
function chatView(session, kind) {
  const place = { kind };
  const list = h("ul", { class: "messages", "data-testid": `${kind}-messages` });
  const blocked = h("div", { class: "blocked-users" });
  const c = composer(kind === "chat" ? "Write your message" : "Write to the other moderators", (text, replyTo) => sendMessage(session, place, text, replyTo), kind);
  const notice = h("div", { class: "notice" });
  const el = h(
    "section",
    { class: "view", "data-testid": `${kind}-view` },
    kind === "backchannel" ? h("div", { class: "notice moderators-only" }, "Moderator-only area: attendees never see the backchannel.") : null,
    blocked,
    list,
    notice,
    c.el
  );
  let last = 0;
  const render = () => {
    const ctx = session.ctx;
    const messages = [...(kind === "chat" ? ctx.chat : ctx.backchannel).values()].sort((a, b) => a.id - b.id);
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    fill(list, messages.length ? messages.map((m) => messageItem(session, m, place, c.setReply)) : h("li", { class: "empty" }, "No messages yet."));
    const newest = messages.at(-1)?.id ?? 0;
    if (atBottom || newest !== last) list.scrollTop = list.scrollHeight;
    last = newest;
    fill(notice, kind === "chat" && ctx.blocked ? "You can read the chat, but a moderator blocked you from writing in it." : null);
    fill(blocked, kind === "chat" && ctx.isModerator && ctx.blockedUsers.size ? h(
      "details",
      { "data-testid": "blocked-users" },
      h("summary", {}, `Blocked users (${ctx.blockedUsers.size})`),
      [...ctx.blockedUsers.values()].map((b) => h(
        "div",
        { class: "row" },
        `${b.user_id}${b.email ? ` <${b.email}>` : ""} `,
        h("button", { "data-testid": "unblock", onclick: () => attempt(session.command("unblock", { context_id: ctx.id, user_id: b.user_id })) }, "Unblock")
      ))
    ) : null);
  };
  return { el, render };
}

// src/feed.ts
var KIND_LABEL = {
  poll: "Poll",
  quiz: "Quiz question",
  rating: "Rating scale",
  crowd_vote: "Crowd vote",
  open_question: "Open-ended question",
  survey: "Survey",
  announcement: "Announcement"
};
function kindOf(i) {
  return Object.keys(i.spec ?? {}).find((k) => i.spec[k]) ?? "";
}
function titleOf(i) {
  const s = i.spec[kindOf(i)] ?? {};
  return s.question || s.statement || s.name || s.title || s.text || "";
}
async function vote(session, i, choice) {
  if (!await attempt(session.command("vote", { context_id: session.ctx.id, interaction_id: i.id, client_vote_id: clientId("v"), ...choice }))) return;
  const held = session.ctx.interactions.get(i.id);
  if (held) session.ctx.interactions.set(i.id, { ...held, mine: { options: [], rating: 0, text: "", survey: [], points: 0, ...choice } });
  session.refresh();
}
function bars(labels, counts, correct = []) {
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  return h("ul", { class: "bars", "data-testid": "results" }, labels.map((label, n) => {
    const count = counts[n] ?? 0;
    const pct = Math.round(100 * count / total);
    return h(
      "li",
      { class: correct.includes(n) ? "correct" : "" },
      h("span", { class: "label" }, label, correct.includes(n) ? " ✓" : ""),
      h("span", { class: "bar" }, h("span", { class: "fill", style: `width:${pct}%` })),
      h("span", { class: "count", "data-testid": "result-count" }, `${count} (${pct}%)`)
    );
  }));
}
function results(i, kind, spec) {
  const t = i.tally;
  if (!t) return null;
  const voters = h("div", { class: "muted", "data-testid": "voters" }, `${t.voters} ${t.voters === 1 ? "vote" : "votes"}`);
  switch (kind) {
    case "poll":
    case "quiz":
      return h("div", {}, bars(spec.options, t.counts, t.correct ?? []), voters);
    case "rating":
      return h("div", {}, bars(["1", "2", "3", "4", "5"].map((n) => `${spec.emoji} ${n}`), t.counts), h("div", {}, `Average ${Number(t.average).toFixed(1)}`), voters);
    case "crowd_vote":
      return h("div", { "data-testid": "results" }, `${spec.emoji} ${t.voters} of ${t.present} attendees (${Math.round(t.share)}%)`);
    case "open_question":
      return h(
        "div",
        { "data-testid": "results" },
        voters,
        h("div", { class: "words" }, (t.words ?? []).slice(0, 20).map((w) => h("span", { class: "word", style: `font-size:${Math.min(2, 0.8 + w.count / 5)}em` }, w.word, " "))),
        h("ul", { class: "answers" }, (t.answers ?? []).slice(0, 20).map((a) => h("li", {}, a.text)))
      );
    case "survey":
      return h(
        "div",
        { "data-testid": "results" },
        voters,
        (spec.questions ?? []).map((q, n) => {
          const qt = t.questions?.[n];
          if (!qt) return null;
          const labels = q.kind === "SURVEY_QUESTION_KIND_RATING" ? ["1", "2", "3", "4", "5"] : q.options ?? [];
          return h(
            "div",
            { class: "survey-result" },
            h("strong", {}, q.text || `Question ${n + 1}`),
            q.kind === "SURVEY_QUESTION_KIND_OPEN" ? h("ul", {}, (qt.answers ?? []).slice(0, 10).map((a) => h("li", {}, a.text))) : bars(labels, qt.counts ?? [])
          );
        })
      );
    default:
      return null;
  }
}
function ballot(session, i, kind, spec) {
  const open = i.status === "INTERACTION_STATUS_PUBLISHED";
  const mine = i.mine;
  if (mine) {
    const chosen = (mine.options ?? []).map((n) => spec.options?.[n]).filter(Boolean).join(", ");
    const said = chosen || (mine.rating ? `${mine.rating}/5` : "") || mine.text || (kind === "crowd_vote" ? spec.emoji : "") || "answered";
    return h(
      "div",
      { class: "my-vote", "data-testid": "my-vote" },
      `Your answer: ${said}`,
      kind === "quiz" && i.status === "INTERACTION_STATUS_ENDED" ? ` — ${mine.points} points` : ""
    );
  }
  if (!open || session.ctx.isModerator) return null;
  switch (kind) {
    case "poll":
    case "quiz": {
      const multiple = kind === "quiz" || spec.multiple_answers;
      if (!multiple) {
        return h("div", { class: "options" }, spec.options.map((o, n) => h("button", { class: "option", "data-testid": "option", onclick: () => vote(session, i, { options: [n] }) }, o)));
      }
      const boxes = spec.options.map((o) => h("label", { class: "option" }, h("input", { type: "checkbox" }), " ", o));
      return h(
        "div",
        { class: "options" },
        boxes,
        h("button", { class: "primary", "data-testid": "submit-vote", onclick: () => {
          const options = boxes.map((b, n) => b.querySelector("input").checked ? n : -1).filter((n) => n >= 0);
          void vote(session, i, { options });
        } }, "Vote")
      );
    }
    case "rating":
      return h("div", { class: "options" }, [1, 2, 3, 4, 5].map((n) => h("button", { class: "option", "data-testid": "option", title: `${n}`, onclick: () => vote(session, i, { rating: n }) }, spec.emoji.repeat(n))));
    case "crowd_vote":
      return h("button", { class: "option big", "data-testid": "option", onclick: () => vote(session, i, {}) }, spec.emoji, " I'm in");
    case "open_question": {
      const input = h("input", { type: "text", placeholder: "Your answer", maxlength: 500, "data-testid": "open-answer" });
      return h("div", { class: "row" }, input, h("button", { class: "primary", "data-testid": "submit-vote", onclick: () => input.value.trim() && vote(session, i, { text: input.value }) }, "Send"));
    }
    case "survey":
      return surveyForm(session, i, spec);
    default:
      return null;
  }
}
function surveyForm(session, i, spec) {
  const form = h("div", { class: "survey", hidden: true });
  const fields = (spec.questions ?? []).map((q, n) => {
    const label = h("div", { class: "question" }, `${n + 1}. ${q.text}${q.mandatory ? " *" : ""}`);
    let read;
    let input;
    switch (q.kind) {
      case "SURVEY_QUESTION_KIND_MULTIPLE_CHOICE":
      case "SURVEY_QUESTION_KIND_ICON_CHOICE": {
        const type = q.multiple_answers ? "checkbox" : "radio";
        const boxes = (q.options ?? []).map((o) => h("label", {}, h("input", { type, name: `s${i.id}-${n}` }), " ", o));
        input = h("div", { class: "options" }, boxes);
        read = () => {
          const options = boxes.map((b, k) => b.querySelector("input").checked ? k : -1).filter((k) => k >= 0);
          return options.length ? { question: n, options } : null;
        };
        break;
      }
      case "SURVEY_QUESTION_KIND_RATING": {
        const select = h("select", {}, h("option", { value: "" }, "—"), [1, 2, 3, 4, 5].map((r) => h("option", { value: r }, `${q.emoji ?? "⭐"} ${r}`)));
        input = select;
        read = () => select.value ? { question: n, rating: Number(select.value) } : null;
        break;
      }
      default: {
        const text = h("input", { type: "text", maxlength: 500 });
        input = text;
        read = () => text.value.trim() ? { question: n, text: text.value } : null;
      }
    }
    return { el: h("div", { class: "survey-q" }, label, input), read };
  });
  fill(
    form,
    fields.map((f) => f.el),
    h("button", { class: "primary", onclick: () => vote(session, i, { survey: fields.map((f) => f.read()).filter(Boolean) }) }, "Submit")
  );
  return h("div", {}, h("button", { class: "primary", "data-testid": "start-survey", onclick: (e) => {
    form.hidden = false;
    e.target.remove();
  } }, spec.start_label || "Take survey"), form);
}
function moderatorControls(session, i) {
  const act = (kind) => attempt(session.command("interaction_action", { context_id: session.ctx.id, interaction_id: i.id, action: `INTERACTION_ACTION_KIND_${kind}` }));
  const published = i.status === "INTERACTION_STATUS_PUBLISHED";
  const voting = kindOf(i) !== "announcement";
  return h(
    "div",
    { class: "controls" },
    voting ? i.results_shown ? h("button", { "data-testid": "hide-results", onclick: () => act("HIDE_RESULTS") }, "Hide results") : h("button", { "data-testid": "show-results", onclick: () => act("SHOW_RESULTS") }, "Show results") : null,
    published && voting ? h("button", { "data-testid": "end", onclick: () => act("END") }, "End") : null,
    h("button", { "data-testid": "unpublish", onclick: () => act("UNPUBLISH") }, "Unpublish")
  );
}
function interactionCard(session, i) {
  const kind = kindOf(i);
  const spec = i.spec[kind];
  const ended = i.status === "INTERACTION_STATUS_ENDED";
  const head = h("div", { class: "card-head" }, h("span", { class: "kind" }, KIND_LABEL[kind] ?? kind), ended ? h("span", { class: "badge" }, "Ended") : null);
  if (kind === "announcement") {
    return h(
      "article",
      { class: "card announcement", "data-testid": "interaction", "data-id": i.id, "data-kind": kind },
      head,
      spec.title ? h("h3", {}, spec.title) : null,
      h("p", {}, spec.text),
      spec.cta_url ? h("a", { class: "button", href: spec.cta_url, target: "_blank", rel: "noopener noreferrer" }, spec.cta_label) : null,
      session.ctx.isModerator ? moderatorControls(session, i) : null
    );
  }
  return h(
    "article",
    { class: "card", "data-testid": "interaction", "data-id": i.id, "data-kind": kind, "data-status": i.status },
    head,
    h("h3", { "data-testid": "interaction-title" }, titleOf(i)),
    kind === "survey" && spec.intro ? h("p", {}, spec.intro) : null,
    ballot(session, i, kind, spec),
    results(i, kind, spec),
    session.ctx.isModerator ? moderatorControls(session, i) : null
  );
}
function feedView(session) {
  const list = h("div", { class: "feed", "data-testid": "feed" });
  const el = h("section", { class: "view", "data-testid": "feed-view" }, list);
  const render = () => {
    const ctx = session.ctx;
    const items = [];
    ctx.pinned.forEach((id, n) => {
      const m = ctx.pinnedMessages.get(id);
      if (!m) return;
      items.push({ order: -1e6 + n, el: h(
        "article",
        { class: "card pinned", "data-testid": "pinned", "data-id": id },
        h("div", { class: "card-head" }, h("span", { class: "kind" }, "📌 Pinned message")),
        h("div", { class: "author" }, name(m.author)),
        h("p", {}, m.text),
        ctx.isModerator ? h("button", { "data-testid": "unpin", onclick: () => attempt(session.command("unpin", { context_id: ctx.id, message_id: id })) }, "Unpin") : null
      ) });
    });
    for (const f of ctx.published.values()) {
      items.push({ order: f.item_id, el: h(
        "article",
        { class: "card qa", "data-testid": "feed-qa", "data-id": f.item_id },
        h("div", { class: "card-head" }, h("span", { class: "kind" }, "Q&A")),
        h("p", { class: "question" }, h("strong", {}, "Q: "), f.question?.text ?? ""),
        h("p", { class: "answer" }, h("strong", {}, `A (${name(f.answer?.author ?? {})}): `), f.answer?.text ?? ""),
        ctx.isModerator ? h("button", { "data-testid": "unpublish-qa", onclick: () => attempt(session.command("unpublish", { context_id: ctx.id, item_id: f.item_id })) }, "Unpublish") : null
      ) });
    }
    for (const i of ctx.interactions.values()) {
      if (i.status === "INTERACTION_STATUS_DRAFT") continue;
      items.push({ order: i.published_seq, el: interactionCard(session, i) });
    }
    items.sort((a, b) => a.order < 0 || b.order < 0 ? a.order - b.order : b.order - a.order);
    fill(list, items.length ? items.map((x) => x.el) : h("p", { class: "empty" }, "Nothing in the feed yet."));
  };
  return { el, render };
}

// src/interactions.ts
var EMOJI = ["⭐", "❤️", "👍", "🔥", "🎉"];
function interactionsView(session) {
  let editing = 0;
  const kind = h(
    "select",
    { "data-testid": "interaction-kind" },
    ["poll", "quiz", "rating", "crowd_vote", "open_question", "announcement"].map((k) => h("option", { value: k }, KIND_LABEL[k]))
  );
  const fields = h("div", { class: "fields" });
  const drafts = h("div", { class: "drafts", "data-testid": "drafts" });
  const live = h("div", { class: "published", "data-testid": "published" });
  const question = h("input", { type: "text", maxlength: 500, "data-testid": "interaction-question" });
  const optionList = h("div", { class: "option-inputs" });
  const share = h("input", { type: "checkbox", "data-testid": "share-results" });
  const multiple = h("input", { type: "checkbox", "data-testid": "multiple-answers" });
  const showCorrect = h("input", { type: "checkbox", checked: true });
  const emoji = h("select", {}, EMOJI.map((e) => h("option", { value: e }, e)));
  const title = h("input", { type: "text", maxlength: 150 });
  const text = h("textarea", { rows: 3, maxlength: 2e3 });
  const ctaLabel = h("input", { type: "text", maxlength: 40, placeholder: "Button label" });
  const ctaUrl = h("input", { type: "url", placeholder: "https://…" });
  const addOption = (value = "", correct = false) => {
    if (optionList.children.length >= 5) return;
    const row = h(
      "div",
      { class: "row option-input" },
      h("input", { type: "checkbox", class: "correct", title: "Correct answer", checked: correct }),
      h("input", { type: "text", maxlength: 200, value, placeholder: `Option ${optionList.children.length + 1}`, "data-testid": "interaction-option" }),
      h("button", { class: "small", title: "Remove", onclick: () => optionList.children.length > 2 && row.remove() }, "🗑")
    );
    optionList.append(row);
  };
  const layout = () => {
    const k = kind.value;
    const label = (text2, input) => h("label", { class: "field" }, h("span", {}, text2), input);
    optionList.classList.toggle("quiz", k === "quiz");
    fill(
      fields,
      k === "announcement" ? [label("Title (optional)", title), label("Announcement", text), label("Call to action (optional)", h("div", { class: "row" }, ctaLabel, ctaUrl))] : [
        label(k === "rating" || k === "crowd_vote" ? "Statement" : "Question", question),
        k === "poll" || k === "quiz" ? [optionList, h("button", { class: "link", onclick: () => addOption() }, "+ Add option")] : null,
        k === "rating" || k === "crowd_vote" ? label("Emoji", emoji) : null,
        k === "poll" ? h("label", {}, multiple, " Enable multiple answers") : null,
        k === "quiz" ? h("label", {}, showCorrect, " Show the correct answer when it ends") : null,
        h("label", {}, share, " Share results with attendees")
      ]
    );
  };
  kind.addEventListener("change", layout);
  const reset = () => {
    editing = 0;
    for (const input of [question, title, text, ctaLabel, ctaUrl]) input.value = "";
    share.checked = multiple.checked = false;
    optionList.replaceChildren();
    addOption();
    addOption();
    layout();
  };
  const spec = () => {
    const k = kind.value;
    const rows = [...optionList.querySelectorAll(".option-input")];
    const options = rows.map((r) => r.querySelector("input[type=text]").value);
    switch (k) {
      case "poll":
        return { poll: { question: question.value, options, share_results: share.checked, multiple_answers: multiple.checked } };
      case "quiz":
        return { quiz: { question: question.value, options, correct: rows.map((r, n) => r.querySelector(".correct").checked ? n : -1).filter((n) => n >= 0), show_correct: showCorrect.checked, share_results: share.checked } };
      case "rating":
        return { rating: { statement: question.value, emoji: emoji.value, share_results: share.checked } };
      case "crowd_vote":
        return { crowd_vote: { statement: question.value, emoji: emoji.value, share_results: share.checked } };
      case "open_question":
        return { open_question: { question: question.value, share_results: share.checked } };
      default:
        return { announcement: { title: title.value, text: text.value, cta_label: ctaLabel.value, cta_url: ctaUrl.value } };
    }
  };
  const action = (id, what) => attempt(session.command("interaction_action", { context_id: session.ctx.id, interaction_id: id, action: `INTERACTION_ACTION_KIND_${what}` }));
  const save = async (publish) => {
    let id = editing;
    const saved = await attempt(session.command("save_interaction", {
      context_id: session.ctx.id,
      interaction_id: editing,
      spec: spec(),
      ...editing ? {} : { client_save_id: clientId("s") }
    }).then((r) => id = r.interaction_id));
    if (!saved) return;
    if (publish) await action(id, "PUBLISH");
    reset();
  };
  const edit = (i) => {
    editing = i.id;
    const k = kindOf(i);
    const s = i.spec[k];
    kind.value = k;
    question.value = s.question ?? s.statement ?? "";
    share.checked = !!s.share_results;
    multiple.checked = !!s.multiple_answers;
    if (s.emoji) emoji.value = s.emoji;
    title.value = s.title ?? "";
    text.value = s.text ?? "";
    ctaLabel.value = s.cta_label ?? "";
    ctaUrl.value = s.cta_url ?? "";
    optionList.replaceChildren();
    (s.options ?? []).forEach((o, n) => addOption(o, (s.correct ?? []).includes(n)));
    layout();
  };
  const el = h(
    "section",
    { class: "view", "data-testid": "interactions-view" },
    h(
      "div",
      { class: "card editor" },
      h("div", { class: "row" }, h("strong", {}, "Create"), kind),
      fields,
      h(
        "div",
        { class: "row" },
        h("button", { "data-testid": "save-draft", onclick: () => save(false) }, "Save as draft"),
        h("button", { class: "primary", "data-testid": "publish-now", onclick: () => save(true) }, "Publish now")
      )
    ),
    h("h3", {}, "Interactions drafts"),
    drafts,
    h("h3", {}, "Published"),
    live
  );
  reset();
  const render = () => {
    const all = [...session.ctx.interactions.values()].sort((a, b) => a.id - b.id);
    const draftList = all.filter((i) => i.status === "INTERACTION_STATUS_DRAFT");
    fill(drafts, draftList.length ? draftList.map((i) => h(
      "div",
      { class: "draft row", "data-testid": "draft", "data-id": i.id },
      h("span", { class: "kind" }, KIND_LABEL[kindOf(i)]),
      h("span", { class: "grow" }, titleOf(i)),
      h("button", { onclick: () => edit(i) }, "✎ Edit"),
      h("button", { class: "primary", "data-testid": "publish-draft", onclick: () => action(i.id, "PUBLISH") }, "Publish now"),
      h("button", { onclick: () => action(i.id, "DELETE") }, "🗑")
    )) : h("p", { class: "empty" }, "No drafts."));
    const published = all.filter((i) => i.status !== "INTERACTION_STATUS_DRAFT").reverse();
    fill(live, published.length ? published.map((i) => interactionCard(session, i)) : h("p", { class: "empty" }, "Nothing published yet."));
  };
  return { el, render };
}

// src/private.ts
var STATUS_LABEL = {
  PEER_STATUS_NONE: "",
  PEER_STATUS_REQUEST_SENT: "Request sent",
  PEER_STATUS_REQUEST_RECEIVED: "Wants to connect",
  PEER_STATUS_CONNECTED: "Connected",
  PEER_STATUS_IGNORED: "Ignored"
};
function privateView(session) {
  let open = "";
  const loaded = /* @__PURE__ */ new Set();
  const search = h("input", { type: "search", placeholder: "Search people by name", "data-testid": "people-query" });
  const found = h("ul", { class: "people", "data-testid": "people" });
  const peers = h("div", { class: "peers", "data-testid": "peers" });
  const conversation = h("div", { class: "conversation" });
  const connect = (userId, action) => attempt(session.command("connection", { user_id: userId, action: `CONNECTION_ACTION_KIND_${action}` }));
  const runSearch = async () => {
    try {
      const r = await session.command("people", { query: search.value, limit: 20 });
      fill(found, (r.people ?? []).length ? r.people.map((p) => h(
        "li",
        { class: "row", "data-testid": "person", "data-user": p.user_id },
        h("span", { class: "grow" }, p.name || p.user_id),
        p.status === "PEER_STATUS_NONE" ? h("button", { class: "primary", "data-testid": "connect", onclick: async () => {
          await connect(p.user_id, "REQUEST");
          void runSearch();
        } }, "Connect") : h("span", { class: "muted" }, STATUS_LABEL[p.status])
      )) : h("li", { class: "empty" }, "Nobody found."));
    } catch (e) {
      fill(found, h("li", { class: "empty" }, e.message));
    }
  };
  let debounce = 0;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = window.setTimeout(runSearch, 300);
  });
  const dm = composer("Write a private message", async (text) => {
    const ok = await attempt(session.command("dm_send", { user_id: open, text, client_msg_id: clientId("d") }));
    return ok;
  }, "dm");
  const loadHistory = async (peer) => {
    loaded.add(peer);
    try {
      const r = await session.command("dm_history", { user_id: peer, before_id: 0, limit: 50 });
      const c = session.priv.conversation(peer);
      for (const m of r.messages ?? []) c.set(m.message_id, m);
      render();
    } catch {
      loaded.delete(peer);
    }
  };
  const markRead = (peer, messages) => {
    const theirs = messages.filter((m) => m.sender_id !== session.userId).at(-1);
    if (theirs && theirs.message_id > (peer.my_read_id ?? 0) && document.visibilityState === "visible") {
      peer.my_read_id = theirs.message_id;
      void session.command("dm_read", { user_id: peer.user_id, message_id: theirs.message_id }).catch(() => peer.my_read_id = 0);
    }
  };
  const renderConversation = () => {
    const peer = session.priv.peers.get(open);
    if (!peer) {
      fill(conversation, h("p", { class: "empty" }, "Choose a connection to chat with."));
      return;
    }
    if (!loaded.has(open)) void loadHistory(open);
    const messages = [...session.priv.conversation(open).values()].sort((a, b) => a.message_id - b.message_id);
    const lastMine = messages.filter((m) => m.sender_id === session.userId).at(-1);
    const list = h("ul", { class: "messages dm", "data-testid": "dm-messages" }, messages.map((m) => {
      const mine = m.sender_id === session.userId;
      return h(
        "li",
        { class: `msg${mine ? " mine" : ""}`, "data-testid": "dm-message", "data-id": m.message_id },
        h("div", { class: "meta" }, h("span", { class: "author" }, mine ? "You" : peer.name), h("span", { class: "time" }, time(m.sent_at_ms))),
        h("div", { class: "text", "data-testid": "message-text" }, m.text),
        mine ? h(
          "div",
          { class: "actions" },
          h("button", { title: "Delete", onclick: () => attempt(session.command("dm_delete", { user_id: open, message_id: m.message_id })) }, "🗑"),
          m === lastMine && peer.peer_read_id >= m.message_id ? h("span", { class: "seen", "data-testid": "seen" }, "Seen") : null
        ) : null
      );
    }));
    const connected = peer.status === "PEER_STATUS_CONNECTED";
    fill(
      conversation,
      h(
        "div",
        { class: "thread-head" },
        h("button", { class: "link", onclick: () => {
          open = "";
          render();
        } }, "← Back"),
        h("strong", { "data-testid": "dm-peer" }, peer.name || peer.user_id),
        h("span", { class: "muted" }, STATUS_LABEL[peer.status]),
        connected ? h("button", { class: "small", onclick: () => connect(peer.user_id, "REMOVE") }, "Remove connection") : null
      ),
      list,
      connected ? dm.el : h("p", { class: "muted" }, "You can write once you are connected.")
    );
    list.scrollTop = list.scrollHeight;
    markRead(peer, messages);
  };
  const render = () => {
    const all = [...session.priv.peers.values()];
    const requests = all.filter((p) => p.status === "PEER_STATUS_REQUEST_RECEIVED" || p.status === "PEER_STATUS_IGNORED");
    const others = all.filter((p) => !requests.includes(p) && p.status !== "PEER_STATUS_NONE" || p.status === "PEER_STATUS_NONE" && p.last_message);
    fill(
      peers,
      requests.length ? h("div", { class: "requests" }, h("h3", {}, "Requests"), requests.map((p) => h(
        "div",
        { class: "row", "data-testid": "request", "data-user": p.user_id },
        h("span", { class: "grow" }, `${p.name || p.user_id}`, p.status === "PEER_STATUS_IGNORED" ? h("span", { class: "muted" }, " (ignored)") : null),
        h("button", { class: "primary", "data-testid": "accept", onclick: () => connect(p.user_id, "ACCEPT") }, "Accept"),
        p.status === "PEER_STATUS_REQUEST_RECEIVED" ? h("button", { "data-testid": "ignore", onclick: () => connect(p.user_id, "IGNORE") }, "Ignore") : null
      ))) : null,
      h("h3", {}, "Conversations"),
      others.length ? others.map((p) => h(
        "button",
        { class: `peer${p.user_id === open ? " open" : ""}`, "data-testid": "peer", "data-user": p.user_id, onclick: () => {
          open = p.user_id;
          render();
        } },
        h("span", { class: "grow" }, p.name || p.user_id),
        h("span", { class: "muted" }, STATUS_LABEL[p.status]),
        p.unread ? h("span", { class: "unread", "data-testid": "unread" }, p.unread) : null
      )) : h("p", { class: "empty" }, "No connections yet.")
    );
    renderConversation();
  };
  const el = h(
    "section",
    { class: "view private", "data-testid": "private-view" },
    h(
      "details",
      { class: "connect-with", "data-testid": "connect-with", ontoggle: (e) => e.target.open && runSearch() },
      h("summary", {}, "Connect with attendees"),
      search,
      found
    ),
    h("div", { class: "split" }, peers, conversation)
  );
  return { el, render, unread: () => [...session.priv.peers.values()].reduce((n, p) => n + (p.unread ?? 0), 0) };
}

// src/qa.ts
var STATE_LABEL = {
  THREAD_STATE_PENDING: "Pending",
  THREAD_STATE_OWNED: "Claimed",
  THREAD_STATE_RESOLVED: "Resolved",
  THREAD_STATE_DONE: "Done"
};
function qaView(session) {
  const body = h("div", { class: "qa-body" });
  let open = 0;
  const el = h("section", { class: "view", "data-testid": "qa-view" }, body);
  const ask = composer("Type your question", async (text) => {
    const ok = await attempt(session.command("ask", { context_id: session.ctx.id, text, client_msg_id: clientId("q"), thread_id: 0 }).then((r) => {
      if (session.ctx.info.qa_mode === "QA_MODE_MULTI_THREAD" || !open) open = r.thread_id;
    }));
    render();
    return ok;
  }, "ask");
  const threadComposers = /* @__PURE__ */ new Map();
  const threadComposer = (t) => {
    let c = threadComposers.get(t.id);
    if (!c) {
      c = session.ctx.isModerator ? composer(`Answering as ${session.ctx.info.name || session.ctx.id}`, (text, replyTo) => sendMessage(session, { kind: "thread", threadId: t.id }, text, replyTo), "answer") : composer("Follow up on your question", (text, replyTo) => (
        // A reply to a message of the thread is a `send` in it; anything else asks
        // again in the thread (which sends a resolved one back to pending).
        replyTo ? sendMessage(session, { kind: "thread", threadId: t.id }, text, replyTo) : attempt(session.command("ask", { context_id: session.ctx.id, text, client_msg_id: clientId("q"), thread_id: t.id }))
      ), "followup");
      threadComposers.set(t.id, c);
    }
    return c;
  };
  const messagesOf = (threadId) => [...session.ctx.threadMessages.values()].filter((m) => m.thread_id === threadId).sort((a, b) => a.id - b.id);
  const action = (t, kind) => attempt(session.command("thread_action", { context_id: session.ctx.id, thread_id: t.id, action: `THREAD_ACTION_KIND_${kind}` }));
  const moderatorActions = (t) => {
    const mine = t.owner_id === session.userId;
    switch (t.state) {
      case "THREAD_STATE_PENDING":
        return [h("button", { class: "primary", "data-testid": "claim", onclick: async () => {
          if (await action(t, "CLAIM")) {
            open = t.id;
            render();
          }
        } }, "Reply")];
      case "THREAD_STATE_OWNED":
        return mine ? [
          h("button", { "data-testid": "release", onclick: () => action(t, "RELEASE") }, "Send back to pending"),
          h("button", { "data-testid": "resolve", onclick: () => action(t, "RESOLVE") }, "Resolve")
        ] : [h("span", { class: "muted" }, `claimed by ${t.owner_id}`)];
      case "THREAD_STATE_RESOLVED":
        return [h("button", { "data-testid": "clear", onclick: async () => {
          if (await action(t, "CLEAR")) {
            open = 0;
            render();
          }
        } }, "Clear")];
      default:
        return [];
    }
  };
  const threadRow = (t) => {
    const messages = messagesOf(t.id);
    const first = messages.find((m) => !m.author.moderator);
    return h(
      "li",
      { class: "thread-row", "data-testid": "thread", "data-id": t.id, "data-state": t.state },
      h(
        "button",
        { class: "thread-open", "data-testid": "open-thread", onclick: () => {
          open = t.id;
          render();
        } },
        h("span", { class: "author" }, session.ctx.isModerator ? name(t.attendee) : "Your question"),
        h("span", { class: `state ${t.state}` }, STATE_LABEL[t.state] ?? t.state),
        h("span", { class: "preview" }, first?.text ?? "")
      ),
      session.ctx.isModerator ? h("span", { class: "thread-actions" }, moderatorActions(t)) : null
    );
  };
  const publishButton = (t, answer, messages) => {
    const question = [...messages].reverse().find((m) => m.id < answer.id && m.author.user_id === t.attendee.user_id);
    if (!question) return null;
    return h("button", { class: "small", "data-testid": "publish-qa", onclick: () => attempt(session.command("publish_qa", { context_id: session.ctx.id, thread_id: t.id, question_id: question.id, answer_id: answer.id })) }, "Publish to feed");
  };
  const threadDetail = (t) => {
    const messages = messagesOf(t.id);
    const c = threadComposer(t);
    const canWrite = session.ctx.isModerator ? t.state !== "THREAD_STATE_DONE" : true;
    return h(
      "div",
      { class: "thread-detail", "data-testid": "thread-detail", "data-id": t.id, "data-state": t.state },
      h(
        "div",
        { class: "thread-head" },
        h("button", { class: "link", "data-testid": "back", onclick: () => {
          open = 0;
          render();
        } }, "← Back"),
        h("strong", {}, session.ctx.isModerator ? name(t.attendee) : "Your question"),
        h("span", { class: `state ${t.state}`, "data-testid": "thread-state" }, STATE_LABEL[t.state] ?? t.state),
        session.ctx.isModerator ? h("span", { class: "thread-actions" }, moderatorActions(t)) : null
      ),
      h("ul", { class: "messages" }, messages.map((m) => {
        const item = messageItem(session, m, { kind: "thread", threadId: t.id }, c.setReply);
        if (session.ctx.isModerator && m.author.moderator) item.querySelector(".actions")?.append(publishButton(t, m, messages) ?? "");
        return item;
      })),
      canWrite ? c.el : null
    );
  };
  const render = () => {
    const ctx = session.ctx;
    const threads = [...ctx.threads.values()].sort((a, b) => a.id - b.id);
    const current = open ? ctx.threads.get(open) : void 0;
    if (current) {
      fill(body, threadDetail(current));
      return;
    }
    if (ctx.isModerator) {
      const group = (state, label, count) => {
        const rows = threads.filter((t) => t.state === state);
        return h(
          "details",
          { open: true, class: "queue", "data-testid": `queue-${state.replace("THREAD_STATE_", "").toLowerCase()}` },
          h("summary", {}, `${label} (`, h("span", { "data-testid": "count" }, count), ")"),
          h("ul", { class: "threads" }, rows.length ? rows.map(threadRow) : h("li", { class: "empty" }, "None"))
        );
      };
      fill(
        body,
        threads.length ? null : h("p", { class: "empty" }, "No questions from attendees yet."),
        group("THREAD_STATE_PENDING", "Pending", ctx.counts.pending),
        group("THREAD_STATE_OWNED", "Claimed", ctx.counts.owned),
        group("THREAD_STATE_RESOLVED", "Resolved", ctx.counts.resolved)
      );
    } else {
      fill(
        body,
        h("ul", { class: "threads" }, threads.length ? threads.map(threadRow) : h("li", { class: "empty" }, "Ask the moderators a question: only they see it.")),
        h("div", { class: "ask" }, h("strong", {}, "Ask new question"), ask.el)
      );
    }
  };
  return { el, render };
}

// src/state.ts
var ContextState = class {
  constructor(id) {
    this.id = id;
  }
  id;
  info = {};
  role = "ROLE_ATTENDEE";
  chat = /* @__PURE__ */ new Map();
  backchannel = /* @__PURE__ */ new Map();
  threadMessages = /* @__PURE__ */ new Map();
  threads = /* @__PURE__ */ new Map();
  counts = { pending: 0, owned: 0, resolved: 0 };
  pinned = [];
  pinnedMessages = /* @__PURE__ */ new Map();
  liked = /* @__PURE__ */ new Set();
  blocked = false;
  blockedUsers = /* @__PURE__ */ new Map();
  updates = /* @__PURE__ */ new Map();
  published = /* @__PURE__ */ new Map();
  interactions = /* @__PURE__ */ new Map();
  leaderboard = null;
  myRank = null;
  get isModerator() {
    return this.role === "ROLE_MODERATOR";
  }
  /** A join's answer: a snapshot replaces everything; a recovery applies `missed`. */
  applyJoin(ok) {
    this.info = ok.context ?? this.info;
    this.role = ok.role ?? this.role;
    if (!ok.recovered && ok.snapshot) this.applySnapshot(ok.snapshot);
    for (const push of ok.missed ?? []) this.applyPush(push);
  }
  applySnapshot(s) {
    this.chat.clear();
    this.backchannel.clear();
    this.threadMessages.clear();
    this.threads.clear();
    this.pinnedMessages.clear();
    this.blockedUsers.clear();
    this.updates.clear();
    this.published.clear();
    this.interactions.clear();
    for (const m of s.messages ?? []) this.chat.set(m.id, m);
    for (const m of s.backchannel ?? []) this.backchannel.set(m.id, m);
    for (const m of s.thread_messages ?? []) this.threadMessages.set(m.id, m);
    for (const t of s.threads ?? []) this.threads.set(t.id, t);
    this.counts = s.counts ?? { pending: 0, owned: 0, resolved: 0 };
    this.pinned = (s.pinned ?? []).map((m) => m.id);
    for (const m of s.pinned ?? []) this.pinnedMessages.set(m.id, m);
    this.liked = new Set(s.liked_by_me ?? []);
    this.blocked = !!s.blocked;
    for (const b of s.blocked_users ?? []) this.blockedUsers.set(b.user_id, b);
    for (const u of s.updates ?? []) this.updates.set(u.id, u);
    for (const f of s.published ?? []) this.published.set(f.item_id, f);
    for (const i of s.interactions ?? []) this.interactions.set(i.id, i);
    this.leaderboard = s.leaderboard ?? null;
  }
  /** The map a message lives in, by where it was posted. */
  placeOf(m) {
    if (m.thread_id) return this.threadMessages;
    if (m.backchannel) return this.backchannel;
    return this.chat;
  }
  find(id) {
    return this.chat.get(id) ?? this.backchannel.get(id) ?? this.threadMessages.get(id) ?? this.pinnedMessages.get(id);
  }
  applyPush(p) {
    if (p.message) {
      const m = p.message;
      const place = this.placeOf(m);
      const had = place.get(m.id);
      place.set(m.id, had ? { ...m, like_count: had.like_count } : m);
    } else if (p.deleted) {
      const id = p.deleted.message_id;
      this.chat.delete(id);
      this.backchannel.delete(id);
      this.threadMessages.delete(id);
      this.pinned = this.pinned.filter((x) => x !== id);
      this.pinnedMessages.delete(id);
      for (const [item, f] of this.published) {
        if (f.question?.id === id || f.answer?.id === id) this.published.delete(item);
      }
    } else if (p.likes) {
      for (const { message_id, count } of p.likes.counts ?? []) {
        for (const place of [this.chat, this.backchannel, this.threadMessages, this.pinnedMessages]) {
          const m = place.get(message_id);
          if (m) place.set(message_id, { ...m, like_count: count });
        }
      }
    } else if (p.pinned) {
      const m = p.pinned;
      this.pinnedMessages.set(m.id, m);
      if (!this.pinned.includes(m.id)) this.pinned.push(m.id);
    } else if (p.unpinned) {
      const id = p.unpinned.message_id;
      this.pinned = this.pinned.filter((x) => x !== id);
      this.pinnedMessages.delete(id);
    } else if (p.blocked) {
      this.blockedUsers.set(p.blocked.user_id, p.blocked);
    } else if (p.unblocked) {
      this.blockedUsers.delete(p.unblocked.user_id);
    } else if (p.context) {
      this.info = p.context;
    } else if (p.update) {
      this.updates.set(p.update.id, p.update);
    } else if (p.feed_qa) {
      this.published.set(p.feed_qa.item_id, p.feed_qa);
    } else if (p.feed_removed) {
      this.published.delete(p.feed_removed.item_id);
    } else if (p.interaction) {
      const i = p.interaction;
      const had = this.interactions.get(i.id);
      this.interactions.set(i.id, { ...i, tally: i.tally ?? had?.tally ?? null, mine: i.mine ?? had?.mine ?? null });
      if (i.leaderboard) this.leaderboard = { ...i.leaderboard, mine: this.leaderboard?.mine ?? null };
    } else if (p.tallies) {
      for (const t of p.tallies.tallies ?? []) {
        const i = this.interactions.get(t.interaction_id);
        if (i) this.interactions.set(i.id, { ...i, tally: t });
      }
    } else if (p.interaction_removed) {
      this.interactions.delete(p.interaction_removed.interaction_id);
    } else if (p.thread) {
      const t = p.thread;
      if (t.state === "THREAD_STATE_DONE") {
        this.threads.delete(t.id);
        for (const [id, m] of this.threadMessages) if (m.thread_id === t.id) this.threadMessages.delete(id);
      } else {
        this.threads.set(t.id, t);
      }
      if (t.counts) this.counts = t.counts;
    } else if (p.rank) {
      this.myRank = p.rank.mine;
    }
  }
};
var PrivateState = class {
  settings = { toast: true, private_chat: true, show_last_name: true };
  peers = /* @__PURE__ */ new Map();
  conversations = /* @__PURE__ */ new Map();
  applyOpen(ok) {
    if (!ok.recovered && ok.snapshot) {
      this.settings = ok.snapshot.settings ?? this.settings;
      this.peers.clear();
      for (const p of ok.snapshot.peers ?? []) this.peers.set(p.user_id, p);
    }
    for (const push of ok.missed ?? []) this.applyPush(push);
  }
  conversation(peer) {
    let c = this.conversations.get(peer);
    if (!c) this.conversations.set(peer, c = /* @__PURE__ */ new Map());
    return c;
  }
  applyPush(p) {
    if (p.settings) {
      this.settings = p.settings;
    } else if (p.peer_update) {
      const u = p.peer_update;
      if (u.peer) this.peers.set(u.peer.user_id, u.peer);
      if (u.message) this.conversation(u.message.peer_id).set(u.message.message_id, u.message);
      if (u.removed) this.conversation(u.removed.peer_id).delete(u.removed.message_id);
    }
  }
};

// src/session.ts
var Session = class {
  constructor(url, token, contextId) {
    this.url = url;
    this.token = token;
    this.ctx = new ContextState(contextId);
  }
  url;
  token;
  ctx;
  priv = new PrivateState();
  userId = "";
  status = "connecting";
  refusal = "";
  ws = null;
  nextId = 1;
  pending = /* @__PURE__ */ new Map();
  position = null;
  privatePosition = null;
  attempt = 0;
  closed = false;
  changed = /* @__PURE__ */ new Set();
  pushed = /* @__PURE__ */ new Set();
  /** Called after every change of what the views show. */
  onChange(f) {
    this.changed.add(f);
  }
  /** Every push as it arrives (toasts, reactions), after it was applied. */
  onPush(f) {
    this.pushed.add(f);
  }
  /** Tells the views that something changed here (a command's own result). */
  refresh() {
    this.emit();
  }
  start() {
    this.open();
  }
  stop() {
    this.closed = true;
    this.ws?.close(1e3);
  }
  /** One command; resolves with the reply's result, rejects with its error. */
  command(name2, body) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.status !== "connected") {
      return Promise.reject(this.error("DISCONNECTED", "not connected: try again in a moment"));
    }
    return this.raw(name2, body);
  }
  raw(name2, body) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, [name2]: body }));
    });
  }
  error(code, message, retryAfterMs = 0) {
    return Object.assign(new Error(message), { code, retryAfterMs });
  }
  emit() {
    for (const f of this.changed) f();
  }
  open() {
    const ws = new WebSocket(this.url, "plenary.v1.json");
    this.ws = ws;
    ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    ws.onopen = () => void this.handshake(ws);
    ws.onclose = (e) => this.dropped(ws, e.code, e.reason);
  }
  async handshake(ws) {
    try {
      const ok = await this.raw("connect", { token: this.token });
      this.userId = ok.user_id;
      const join = await this.raw("join", {
        context_id: this.ctx.id,
        ...this.position ? { since: this.position } : {}
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
      const err = e;
      if (err.code === "ERROR_CODE_UNAUTHORIZED" || err.code === "ERROR_CODE_TOKEN_EXPIRED") {
        this.refusal = err.message;
      }
      ws.close();
    }
  }
  lastSeq(pushes) {
    return Math.max(0, ...(pushes ?? []).map((p) => p.seq ?? 0));
  }
  receive(frame) {
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
  async resync(contextId) {
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
  dropped(ws, code, reason) {
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
    const delay = Math.min(1e4, 500 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    setTimeout(() => this.open(), delay);
  }
};

// src/main.ts
var REACTIONS = [
  ["REACTION_CLAP", "👏"],
  ["REACTION_HEART", "❤️"],
  ["REACTION_LAUGH", "😂"],
  ["REACTION_THUMBS_UP", "👍"],
  ["REACTION_WOW", "😮"]
];
var root = document.getElementById("root");
var params = new URLSearchParams(location.hash.slice(1));
function wsUrl() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}
async function demoAvailable() {
  const r = await fetch("/app/demo-token", { cache: "no-store" }).catch(() => null);
  return r?.status === 400;
}
async function login() {
  const token = params.get("token") ?? sessionStorage.getItem("plenary.token");
  const context = params.get("context") ?? sessionStorage.getItem("plenary.context") ?? "webinar-1";
  if (token) {
    history.replaceState(null, "", location.pathname + location.search);
    return start(token, context);
  }
  const contextInput = h("input", { type: "text", value: context, "data-testid": "login-context" });
  const tokenInput = h("textarea", { rows: 4, placeholder: "Paste an access token (JWT)", "data-testid": "login-token" });
  const demo = h("div", { class: "demo" });
  const form = h(
    "form",
    { class: "card login", "data-testid": "login", onsubmit: (e) => {
      e.preventDefault();
      if (tokenInput.value.trim()) void start(tokenInput.value.trim(), contextInput.value.trim() || "webinar-1");
    } },
    h("h1", {}, "Plenary"),
    h("label", { class: "field" }, h("span", {}, "Webinar (context id)"), contextInput),
    h("label", { class: "field" }, h("span", {}, "Access token"), tokenInput),
    h("button", { class: "primary", type: "submit", "data-testid": "login-submit" }, "Join"),
    demo
  );
  fill(root, form);
  if (await demoAvailable()) {
    const sub = h("input", { type: "text", placeholder: "user id, e.g. u-ann", "data-testid": "demo-sub" });
    const display = h("input", { type: "text", placeholder: "Ann Lee", "data-testid": "demo-name" });
    const moderator = h("input", { type: "checkbox", "data-testid": "demo-moderator" });
    fill(demo, h(
      "fieldset",
      {},
      h("legend", {}, "Demo mode (--demo-tokens is on)"),
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
      } }, "Get a demo token")
    ));
  }
}
async function start(token, contextId) {
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
  fill(
    root,
    h(
      "header",
      {},
      title,
      who,
      status,
      h("button", { class: "icon", title: "Settings", "data-testid": "settings-button", onclick: () => settings.hidden = !settings.hidden }, "⋯")
    ),
    settings,
    tabs,
    main,
    reactionsBar,
    burst
  );
  const views = /* @__PURE__ */ new Map();
  let active = "chat";
  let built = "";
  let scheduled = false;
  const updates = h("ul", { class: "updates", "data-testid": "updates" });
  const updatesView = { el: h("section", { class: "view", "data-testid": "updates-view" }), render: () => {
  } };
  const build = () => {
    const role = session.ctx.role;
    if (built === role) return;
    built = role;
    views.clear();
    const add = (key, label, view, badge) => views.set(key, { ...view, label, badge });
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
    const text = h("textarea", { rows: 2, maxlength: 2e3, placeholder: "Notify everyone…", "data-testid": "update-text" });
    const asToast = h("input", { type: "checkbox", checked: true });
    const form = session.ctx.isModerator ? h(
      "div",
      { class: "card" },
      titleInput,
      text,
      h(
        "div",
        { class: "row" },
        h("label", {}, asToast, " Show as a toast"),
        h("button", { class: "primary", "data-testid": "post-update", onclick: async () => {
          if (await attempt(session.command("post_update", { context_id: session.ctx.id, title: titleInput.value, text: text.value, toast: asToast.checked }))) titleInput.value = text.value = "";
        } }, "Send update")
      )
    ) : null;
    fill(updatesView.el, form, updates);
    updatesView.render = () => {
      const all = [...session.ctx.updates.values()].sort((a, b) => b.id - a.id);
      fill(updates, all.length ? all.map((u) => h("li", { class: "card", "data-testid": "update" }, u.title ? h("strong", {}, u.title) : null, h("p", {}, u.text))) : h("li", { class: "empty" }, "No updates yet."));
    };
    return updatesView;
  }
  const renderSettings = () => {
    const s = session.priv.settings;
    const toggle = (key, label) => h("label", { class: "row" }, h("input", { type: "checkbox", checked: s[key], "data-testid": `setting-${key}`, onchange: (e) => attempt(session.command("settings", { [key]: e.target.checked })) }), ` ${label}`);
    fill(
      settings,
      h("strong", {}, "Settings"),
      toggle("toast", "Allow toast notifications"),
      toggle("private_chat", "Enable private chat"),
      toggle("show_last_name", "Show my last name")
    );
  };
  const renderAll = () => {
    scheduled = false;
    build();
    const ctx = session.ctx;
    fill(title, ctx.info.name || ctx.id);
    fill(who, session.userId ? `${session.userId} · ${ctx.isModerator ? "Moderator" : "Attendee"}` : "");
    status.dataset.state = session.status;
    fill(status, { connecting: "Connecting…", connected: "● Live", reconnecting: "Reconnecting…", refused: `Refused: ${session.refusal}` }[session.status]);
    if (session.status === "refused") sessionStorage.removeItem("plenary.token");
    if (!views.has(active)) active = "chat";
    fill(tabs, [...views].map(([key, v]) => {
      const badge = v.badge?.() ?? 0;
      return h("button", {
        role: "tab",
        class: key === active ? "active" : "",
        "aria-selected": key === active ? "true" : "false",
        "data-testid": `tab-${key}`,
        onclick: () => {
          active = key;
          renderAll();
        }
      }, v.label, badge ? h("span", { class: "unread" }, badge) : null);
    }));
    const view = views.get(active);
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
  fill(
    reactionsBar,
    REACTIONS.map(([reaction, emoji]) => h("button", { class: "reaction", title: reaction, "data-testid": `react-${reaction}`, onclick: (e) => attempt(session.command("react", { context_id: session.ctx.id, reaction, crowd: session.ctx.isModerator && e.shiftKey })) }, emoji)),
    h("span", { class: "muted hint" }, "")
  );
  session.onChange(schedule);
  session.onPush((p) => {
    if (p.reactions) showReactions(burst, p.reactions);
    if (p.update && p.update.toast) toast(p.update.title || "Update", p.update.text);
    if (p.interaction && p.interaction.toast && p.interaction.status === "INTERACTION_STATUS_PUBLISHED") {
      toast(`New ${KIND_LABEL[kindOf(p.interaction)]?.toLowerCase() ?? "interaction"}`, titleOf(p.interaction));
    }
    if (p.peer_update?.peer?.status === "PEER_STATUS_REQUEST_RECEIVED" && !p.peer_update.message && session.priv.settings.toast) {
      toast("Private chat", `${p.peer_update.peer.name || p.peer_update.peer.user_id} wants to connect`);
    }
  });
  window.plenary = session;
  session.start();
  schedule();
}
function showReactions(burst, r) {
  const all = [...(r.counts ?? []).map((c) => ({ ...c, crowd: false })), ...(r.crowd ?? []).map((c) => ({ ...c, crowd: true }))];
  for (const c of all) {
    const emoji = REACTIONS.find(([k]) => k === c.reaction)?.[1] ?? "";
    for (let n = 0; n < Math.min(c.count, 12); n++) {
      setTimeout(() => {
        const el = h("span", { class: `float${c.crowd ? " crowd" : ""}`, style: `left:${10 + Math.random() * 80}%` }, emoji);
        burst.append(el);
        setTimeout(() => el.remove(), 2e3);
      }, Math.random() * (r.window_ms || 300));
    }
  }
  const counter = document.querySelector(".reactions .hint");
  if (counter) counter.textContent = all.map((c) => `${REACTIONS.find(([k]) => k === c.reaction)?.[1]}×${c.count}`).join(" ");
}
void login();
