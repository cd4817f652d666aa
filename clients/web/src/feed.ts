// The feed: pinned messages, published questions with their answers, and published
// interactions (polls, quizzes, rating scales, crowd votes, open questions, surveys,
// announcements) with voting and results. Moderators also show or hide results, end
// and unpublish from here.

import { attempt, clientId, fill, h, name } from "./dom";
import type { Session } from "./session";
import type { Json } from "./state";

export const KIND_LABEL: Record<string, string> = {
  poll: "Poll",
  quiz: "Quiz question",
  rating: "Rating scale",
  crowd_vote: "Crowd vote",
  open_question: "Open-ended question",
  survey: "Survey",
  announcement: "Announcement",
};

export function kindOf(i: Json): string {
  return Object.keys(i.spec ?? {}).find((k) => i.spec[k]) ?? "";
}

export function titleOf(i: Json): string {
  const s = i.spec[kindOf(i)] ?? {};
  return s.question || s.statement || s.name || s.title || s.text || "";
}

/** Votes; a vote is not pushed back to the voter, so their own choice is kept here. */
async function vote(session: Session, i: Json, choice: Json) {
  if (!(await attempt(session.command("vote", { context_id: session.ctx.id, interaction_id: i.id, client_vote_id: clientId("v"), ...choice })))) return;
  const held = session.ctx.interactions.get(i.id);
  if (held) session.ctx.interactions.set(i.id, { ...held, mine: { options: [], rating: 0, text: "", survey: [], points: 0, ...choice } });
  session.refresh();
}

function bars(labels: string[], counts: number[], correct: number[] = []) {
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  return h("ul", { class: "bars", "data-testid": "results" }, labels.map((label, n) => {
    const count = counts[n] ?? 0;
    const pct = Math.round((100 * count) / total);
    return h("li", { class: correct.includes(n) ? "correct" : "" },
      h("span", { class: "label" }, label, correct.includes(n) ? " ✓" : ""),
      h("span", { class: "bar" }, h("span", { class: "fill", style: `width:${pct}%` })),
      h("span", { class: "count", "data-testid": "result-count" }, `${count} (${pct}%)`));
  }));
}

function results(i: Json, kind: string, spec: Json) {
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
      return h("div", { "data-testid": "results" }, voters,
        h("div", { class: "words" }, (t.words ?? []).slice(0, 20).map((w: Json) => h("span", { class: "word", style: `font-size:${Math.min(2, 0.8 + w.count / 5)}em` }, w.word, " "))),
        h("ul", { class: "answers" }, (t.answers ?? []).slice(0, 20).map((a: Json) => h("li", {}, a.text))));
    case "survey":
      return h("div", { "data-testid": "results" }, voters,
        (spec.questions ?? []).map((q: Json, n: number) => {
          const qt = t.questions?.[n];
          if (!qt) return null;
          const labels = q.kind === "SURVEY_QUESTION_KIND_RATING" ? ["1", "2", "3", "4", "5"] : q.options ?? [];
          return h("div", { class: "survey-result" }, h("strong", {}, q.text || `Question ${n + 1}`),
            q.kind === "SURVEY_QUESTION_KIND_OPEN" ? h("ul", {}, (qt.answers ?? []).slice(0, 10).map((a: Json) => h("li", {}, a.text))) : bars(labels, qt.counts ?? []));
        }));
    default:
      return null;
  }
}

/** The voting part of a card: what the viewer may still do, or what they chose. */
function ballot(session: Session, i: Json, kind: string, spec: Json) {
  const open = i.status === "INTERACTION_STATUS_PUBLISHED";
  const mine = i.mine;
  if (mine) {
    const chosen = (mine.options ?? []).map((n: number) => spec.options?.[n]).filter(Boolean).join(", ");
    const said = chosen || (mine.rating ? `${mine.rating}/5` : "") || mine.text || (kind === "crowd_vote" ? spec.emoji : "") || "answered";
    return h("div", { class: "my-vote", "data-testid": "my-vote" }, `Your answer: ${said}`,
      kind === "quiz" && i.status === "INTERACTION_STATUS_ENDED" ? ` — ${mine.points} points` : "");
  }
  if (!open || session.ctx.isModerator) return null;
  switch (kind) {
    case "poll":
    case "quiz": {
      const multiple = kind === "quiz" || spec.multiple_answers;
      if (!multiple) {
        return h("div", { class: "options" }, spec.options.map((o: string, n: number) =>
          h("button", { class: "option", "data-testid": "option", onclick: () => vote(session, i, { options: [n] }) }, o)));
      }
      const boxes = spec.options.map((o: string) => h("label", { class: "option" }, h("input", { type: "checkbox" }), " ", o));
      return h("div", { class: "options" }, boxes,
        h("button", { class: "primary", "data-testid": "submit-vote", onclick: () => {
          const options = boxes.map((b: HTMLElement, n: number) => ((b.querySelector("input") as HTMLInputElement).checked ? n : -1)).filter((n: number) => n >= 0);
          void vote(session, i, { options });
        } }, "Vote"));
    }
    case "rating":
      return h("div", { class: "options" }, [1, 2, 3, 4, 5].map((n) =>
        h("button", { class: "option", "data-testid": "option", title: `${n}`, onclick: () => vote(session, i, { rating: n }) }, spec.emoji.repeat(n))));
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

function surveyForm(session: Session, i: Json, spec: Json) {
  const form = h("div", { class: "survey", hidden: true });
  const fields = (spec.questions ?? []).map((q: Json, n: number) => {
    const label = h("div", { class: "question" }, `${n + 1}. ${q.text}${q.mandatory ? " *" : ""}`);
    let read: () => Json | null;
    let input: HTMLElement;
    switch (q.kind) {
      case "SURVEY_QUESTION_KIND_MULTIPLE_CHOICE":
      case "SURVEY_QUESTION_KIND_ICON_CHOICE": {
        const type = q.multiple_answers ? "checkbox" : "radio";
        const boxes = (q.options ?? []).map((o: string) => h("label", {}, h("input", { type, name: `s${i.id}-${n}` }), " ", o));
        input = h("div", { class: "options" }, boxes);
        read = () => {
          const options = boxes.map((b: HTMLElement, k: number) => ((b.querySelector("input") as HTMLInputElement).checked ? k : -1)).filter((k: number) => k >= 0);
          return options.length ? { question: n, options } : null;
        };
        break;
      }
      case "SURVEY_QUESTION_KIND_RATING": {
        const select = h("select", {}, h("option", { value: "" }, "—"), [1, 2, 3, 4, 5].map((r) => h("option", { value: r }, `${q.emoji ?? "⭐"} ${r}`)));
        input = select;
        read = () => (select.value ? { question: n, rating: Number(select.value) } : null);
        break;
      }
      default: {
        const text = h("input", { type: "text", maxlength: 500 });
        input = text;
        read = () => (text.value.trim() ? { question: n, text: text.value } : null);
      }
    }
    return { el: h("div", { class: "survey-q" }, label, input), read };
  });
  fill(form, fields.map((f: Json) => f.el),
    h("button", { class: "primary", onclick: () => vote(session, i, { survey: fields.map((f: Json) => f.read()).filter(Boolean) }) }, "Submit"));
  return h("div", {}, h("button", { class: "primary", "data-testid": "start-survey", onclick: (e) => { form.hidden = false; (e.target as HTMLElement).remove(); } }, spec.start_label || "Take survey"), form);
}

/** Moderators' controls of a published or ended interaction. */
export function moderatorControls(session: Session, i: Json) {
  const act = (kind: string) => attempt(session.command("interaction_action", { context_id: session.ctx.id, interaction_id: i.id, action: `INTERACTION_ACTION_KIND_${kind}` }));
  const published = i.status === "INTERACTION_STATUS_PUBLISHED";
  const voting = kindOf(i) !== "announcement";
  return h("div", { class: "controls" },
    voting ? (i.results_shown
      ? h("button", { "data-testid": "hide-results", onclick: () => act("HIDE_RESULTS") }, "Hide results")
      : h("button", { "data-testid": "show-results", onclick: () => act("SHOW_RESULTS") }, "Show results")) : null,
    published && voting ? h("button", { "data-testid": "end", onclick: () => act("END") }, "End") : null,
    h("button", { "data-testid": "unpublish", onclick: () => act("UNPUBLISH") }, "Unpublish"));
}

export function interactionCard(session: Session, i: Json) {
  const kind = kindOf(i);
  const spec = i.spec[kind];
  const ended = i.status === "INTERACTION_STATUS_ENDED";
  const head = h("div", { class: "card-head" }, h("span", { class: "kind" }, KIND_LABEL[kind] ?? kind), ended ? h("span", { class: "badge" }, "Ended") : null);
  if (kind === "announcement") {
    return h("article", { class: "card announcement", "data-testid": "interaction", "data-id": i.id, "data-kind": kind }, head,
      spec.title ? h("h3", {}, spec.title) : null, h("p", {}, spec.text),
      spec.cta_url ? h("a", { class: "button", href: spec.cta_url, target: "_blank", rel: "noopener noreferrer" }, spec.cta_label) : null,
      session.ctx.isModerator ? moderatorControls(session, i) : null);
  }
  return h("article", { class: "card", "data-testid": "interaction", "data-id": i.id, "data-kind": kind, "data-status": i.status }, head,
    h("h3", { "data-testid": "interaction-title" }, titleOf(i)),
    kind === "survey" && spec.intro ? h("p", {}, spec.intro) : null,
    ballot(session, i, kind, spec),
    results(i, kind, spec),
    session.ctx.isModerator ? moderatorControls(session, i) : null);
}

export function feedView(session: Session) {
  const list = h("div", { class: "feed", "data-testid": "feed" });
  const el = h("section", { class: "view", "data-testid": "feed-view" }, list);
  const render = () => {
    const ctx = session.ctx;
    const items: { order: number; el: HTMLElement }[] = [];
    ctx.pinned.forEach((id, n) => {
      const m = ctx.pinnedMessages.get(id);
      if (!m) return;
      items.push({ order: -1_000_000 + n, el: h("article", { class: "card pinned", "data-testid": "pinned", "data-id": id },
        h("div", { class: "card-head" }, h("span", { class: "kind" }, "📌 Pinned message")),
        h("div", { class: "author" }, name(m.author)), h("p", {}, m.text),
        ctx.isModerator ? h("button", { "data-testid": "unpin", onclick: () => attempt(session.command("unpin", { context_id: ctx.id, message_id: id })) }, "Unpin") : null) });
    });
    for (const f of ctx.published.values()) {
      items.push({ order: f.item_id, el: h("article", { class: "card qa", "data-testid": "feed-qa", "data-id": f.item_id },
        h("div", { class: "card-head" }, h("span", { class: "kind" }, "Q&A")),
        h("p", { class: "question" }, h("strong", {}, "Q: "), f.question?.text ?? ""),
        h("p", { class: "answer" }, h("strong", {}, `A (${name(f.answer?.author ?? {})}): `), f.answer?.text ?? ""),
        ctx.isModerator ? h("button", { "data-testid": "unpublish-qa", onclick: () => attempt(session.command("unpublish", { context_id: ctx.id, item_id: f.item_id })) }, "Unpublish") : null) });
    }
    for (const i of ctx.interactions.values()) {
      if (i.status === "INTERACTION_STATUS_DRAFT") continue;
      items.push({ order: i.published_seq, el: interactionCard(session, i) });
    }
    // Newest first, pinned messages on top.
    items.sort((a, b) => (a.order < 0 || b.order < 0 ? a.order - b.order : b.order - a.order));
    fill(list, items.length ? items.map((x) => x.el) : h("p", { class: "empty" }, "Nothing in the feed yet."));
  };
  return { el, render };
}
