// The feed: pinned messages, published questions with their answers, and published
// interactions (polls, quizzes, rating scales, crowd votes, open questions, surveys,
// announcements) with voting and results. Moderators also show or hide results, end
// and unpublish from here.

import { attempt, clientId, fill, h, name, result } from "./dom";
import { InteractionActionKind, InteractionStatus, SurveyQuestionKind, type Interaction, type SurveyAnswer, type Tally } from "./sdk";
import type { Session } from "./session";

export type Kind = NonNullable<NonNullable<Interaction["spec"]>["kind"]["case"]>;

export const KIND_LABEL: Record<Kind, string> = {
  poll: "Poll",
  quiz: "Quiz question",
  rating: "Rating scale",
  crowdVote: "Crowd vote",
  openQuestion: "Open-ended question",
  survey: "Survey",
  announcement: "Announcement",
};

/** The kind of an interaction and its spec, typed together. */
export function specOf(i: Interaction) {
  return i.spec?.kind ?? { case: undefined, value: undefined };
}

export function titleOf(i: Interaction): string {
  const s = specOf(i);
  switch (s.case) {
    case "poll":
    case "quiz":
    case "openQuestion":
      return s.value.question;
    case "rating":
    case "crowdVote":
      return s.value.statement;
    case "survey":
      return s.value.name;
    case "announcement":
      return s.value.title || s.value.text;
    default:
      return "";
  }
}

interface Choice {
  options?: number[];
  rating?: number;
  text?: string;
  survey?: SurveyAnswer[];
}

/** Votes; a vote is not pushed back to the voter, so their own choice is kept here. */
async function vote(session: Session, i: Interaction, choice: Choice) {
  const ok = await result(session.client.vote({ contextId: session.ctx.id, interactionId: i.id, clientVoteId: clientId("v"), ...choice }));
  if (!ok) return;
  const held = session.ctx.interactions.get(i.id);
  if (held) {
    const mine = { $typeName: "plenary.v1.MyVote", options: [], rating: 0, text: "", survey: [], points: 0, ...choice } as Interaction["mine"];
    session.ctx.interactions.set(i.id, { ...held, mine });
  }
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

const RATINGS = ["1", "2", "3", "4", "5"];

function results(i: Interaction) {
  const t: Tally | undefined = i.tally;
  if (!t) return null;
  const s = specOf(i);
  const voters = h("div", { class: "muted", "data-testid": "voters" }, `${t.voters} ${t.voters === 1 ? "vote" : "votes"}`);
  switch (s.case) {
    case "poll":
    case "quiz":
      return h("div", {}, bars(s.value.options, t.counts, t.correct), voters);
    case "rating":
      return h("div", {}, bars(RATINGS.map((n) => `${s.value.emoji} ${n}`), t.counts), h("div", {}, `Average ${t.average.toFixed(1)}`), voters);
    case "crowdVote":
      return h("div", { "data-testid": "results" }, `${s.value.emoji} ${t.voters} of ${t.present} attendees (${Math.round(t.share)}%)`);
    case "openQuestion":
      return h("div", { "data-testid": "results" }, voters,
        h("div", { class: "words" }, t.words.slice(0, 20).map((w) => h("span", { class: "word", style: `font-size:${Math.min(2, 0.8 + w.count / 5)}em` }, w.word, " "))),
        h("ul", { class: "answers" }, t.answers.slice(0, 20).map((a) => h("li", {}, a.text))));
    case "survey":
      return h("div", { "data-testid": "results" }, voters, s.value.questions.map((q, n) => {
        const qt = t.questions[n];
        if (!qt) return null;
        const labels = q.kind === SurveyQuestionKind.RATING ? RATINGS : q.options;
        return h("div", { class: "survey-result" }, h("strong", {}, q.text || `Question ${n + 1}`),
          q.kind === SurveyQuestionKind.OPEN ? h("ul", {}, qt.answers.slice(0, 10).map((a) => h("li", {}, a.text))) : bars(labels, qt.counts));
      }));
    default:
      return null;
  }
}

/** The voting part of a card: what the viewer may still do, or what they chose. */
function ballot(session: Session, i: Interaction) {
  const s = specOf(i);
  const mine = i.mine;
  if (mine) {
    const options = s.case === "poll" || s.case === "quiz" ? s.value.options : [];
    const chosen = mine.options.map((n) => options[n]).filter(Boolean).join(", ");
    const said = chosen || (mine.rating ? `${mine.rating}/5` : "") || mine.text || (s.case === "crowdVote" ? s.value.emoji : "") || "answered";
    return h("div", { class: "my-vote", "data-testid": "my-vote" }, `Your answer: ${said}`,
      s.case === "quiz" && i.status === InteractionStatus.ENDED ? ` — ${mine.points} points` : "");
  }
  if (i.status !== InteractionStatus.PUBLISHED || session.ctx.isModerator) return null;
  switch (s.case) {
    case "poll":
    case "quiz": {
      // A quiz question may have several right answers, which attendees are not told.
      const multiple = s.case === "quiz" || s.value.multipleAnswers;
      if (!multiple) {
        return h("div", { class: "options" }, s.value.options.map((o, n) =>
          h("button", { class: "option", "data-testid": "option", onclick: () => vote(session, i, { options: [n] }) }, o)));
      }
      const boxes = s.value.options.map((o) => h("label", { class: "option" }, h("input", { type: "checkbox" }), " ", o));
      return h("div", { class: "options" }, boxes,
        h("button", { class: "primary", "data-testid": "submit-vote", onclick: () => {
          const options = boxes.map((b, n) => (b.querySelector("input")!.checked ? n : -1)).filter((n) => n >= 0);
          void vote(session, i, { options });
        } }, "Vote"));
    }
    case "rating":
      return h("div", { class: "options" }, [1, 2, 3, 4, 5].map((n) =>
        h("button", { class: "option", "data-testid": "option", title: `${n}`, onclick: () => vote(session, i, { rating: n }) }, s.value.emoji.repeat(n))));
    case "crowdVote":
      return h("button", { class: "option big", "data-testid": "option", onclick: () => vote(session, i, {}) }, s.value.emoji, " I'm in");
    case "openQuestion": {
      const input = h("input", { type: "text", placeholder: "Your answer", maxlength: 500, "data-testid": "open-answer" });
      return h("div", { class: "row" }, input, h("button", { class: "primary", "data-testid": "submit-vote", onclick: () => input.value.trim() && vote(session, i, { text: input.value }) }, "Send"));
    }
    case "survey":
      return surveyForm(session, i);
    default:
      return null;
  }
}

function surveyForm(session: Session, i: Interaction) {
  const s = specOf(i);
  if (s.case !== "survey") return null;
  const form = h("div", { class: "survey", hidden: true });
  const fields = s.value.questions.map((q, n) => {
    const label = h("div", { class: "question" }, `${n + 1}. ${q.text}${q.mandatory ? " *" : ""}`);
    let read: () => Record<string, unknown> | null;
    let input: HTMLElement;
    if (q.kind === SurveyQuestionKind.MULTIPLE_CHOICE || q.kind === SurveyQuestionKind.ICON_CHOICE) {
      const type = q.multipleAnswers ? "checkbox" : "radio";
      const boxes = q.options.map((o) => h("label", {}, h("input", { type, name: `s${i.id}-${n}` }), " ", o));
      input = h("div", { class: "options" }, boxes);
      read = () => {
        const options = boxes.map((b, k) => (b.querySelector("input")!.checked ? k : -1)).filter((k) => k >= 0);
        return options.length ? { question: n, options } : null;
      };
    } else if (q.kind === SurveyQuestionKind.RATING) {
      const select = h("select", {}, h("option", { value: "" }, "—"), [1, 2, 3, 4, 5].map((r) => h("option", { value: r }, `${q.emoji || "⭐"} ${r}`)));
      input = select;
      read = () => (select.value ? { question: n, rating: Number(select.value) } : null);
    } else {
      const text = h("input", { type: "text", maxlength: 500 });
      input = text;
      read = () => (text.value.trim() ? { question: n, text: text.value } : null);
    }
    return { el: h("div", { class: "survey-q" }, label, input), read };
  });
  fill(form, fields.map((f) => f.el),
    h("button", { class: "primary", onclick: () => vote(session, i, { survey: fields.map((f) => f.read()).filter(Boolean) as unknown as SurveyAnswer[] }) }, "Submit"));
  return h("div", {}, h("button", { class: "primary", "data-testid": "start-survey", onclick: (e: Event) => { form.hidden = false; (e.target as HTMLElement).remove(); } }, s.value.startLabel || "Take survey"), form);
}

/** Moderators' controls of a published or ended interaction. */
export function moderatorControls(session: Session, i: Interaction) {
  const act = (action: InteractionActionKind) => attempt(session.client.interactionAction({ contextId: session.ctx.id, interactionId: i.id, action }));
  const published = i.status === InteractionStatus.PUBLISHED;
  const voting = specOf(i).case !== "announcement";
  return h("div", { class: "controls" },
    voting ? (i.resultsShown
      ? h("button", { "data-testid": "hide-results", onclick: () => act(InteractionActionKind.HIDE_RESULTS) }, "Hide results")
      : h("button", { "data-testid": "show-results", onclick: () => act(InteractionActionKind.SHOW_RESULTS) }, "Show results")) : null,
    published && voting ? h("button", { "data-testid": "end", onclick: () => act(InteractionActionKind.END) }, "End") : null,
    h("button", { "data-testid": "unpublish", onclick: () => act(InteractionActionKind.UNPUBLISH) }, "Unpublish"));
}

export function interactionCard(session: Session, i: Interaction) {
  const s = specOf(i);
  const kind = s.case ?? "poll";
  const ended = i.status === InteractionStatus.ENDED;
  const head = h("div", { class: "card-head" }, h("span", { class: "kind" }, KIND_LABEL[kind]), ended ? h("span", { class: "badge" }, "Ended") : null);
  const attrs = { "data-testid": "interaction", "data-id": String(i.id), "data-kind": kind, "data-status": InteractionStatus[i.status] };
  if (s.case === "announcement") {
    const a = s.value;
    return h("article", { class: "card announcement", ...attrs }, head,
      a.title ? h("h3", {}, a.title) : null, h("p", {}, a.text),
      a.ctaUrl ? h("a", { class: "button", href: a.ctaUrl, target: "_blank", rel: "noopener noreferrer" }, a.ctaLabel) : null,
      session.ctx.isModerator ? moderatorControls(session, i) : null);
  }
  return h("article", { class: "card", ...attrs }, head,
    h("h3", { "data-testid": "interaction-title" }, titleOf(i)),
    s.case === "survey" && s.value.intro ? h("p", {}, s.value.intro) : null,
    ballot(session, i),
    results(i),
    session.ctx.isModerator ? moderatorControls(session, i) : null);
}

export function feedView(session: Session) {
  const list = h("div", { class: "feed", "data-testid": "feed" });
  const el = h("section", { class: "view", "data-testid": "feed-view" }, list);
  const render = () => {
    const { ctx, client } = session;
    // Newest first (by the seq each was published at); pinned messages on top.
    const items: { order: bigint; el: HTMLElement }[] = [];
    const pinned = ctx.pinned.flatMap((id) => {
      const m = ctx.pinnedMessages.get(id);
      if (!m) return [];
      return [h("article", { class: "card pinned", "data-testid": "pinned", "data-id": String(id) },
        h("div", { class: "card-head" }, h("span", { class: "kind" }, "📌 Pinned message")),
        h("div", { class: "author" }, name(m.author)), h("p", {}, m.text),
        ctx.isModerator ? h("button", { "data-testid": "unpin", onclick: () => attempt(client.unpin({ contextId: ctx.id, messageId: id })) }, "Unpin") : null)];
    });
    for (const f of ctx.published.values()) {
      items.push({ order: f.itemId, el: h("article", { class: "card qa", "data-testid": "feed-qa", "data-id": String(f.itemId) },
        h("div", { class: "card-head" }, h("span", { class: "kind" }, "Q&A")),
        h("p", { class: "question" }, h("strong", {}, "Q: "), f.question?.text ?? ""),
        h("p", { class: "answer" }, h("strong", {}, `A (${name(f.answer?.author)}): `), f.answer?.text ?? ""),
        ctx.isModerator ? h("button", { "data-testid": "unpublish-qa", onclick: () => attempt(client.unpublish({ contextId: ctx.id, itemId: f.itemId })) }, "Unpublish") : null) });
    }
    for (const i of ctx.interactions.values()) {
      if (ctx.isPublished(i)) items.push({ order: i.publishedSeq, el: interactionCard(session, i) });
    }
    items.sort((a, b) => (a.order > b.order ? -1 : a.order < b.order ? 1 : 0));
    const all = [...pinned, ...items.map((x) => x.el)];
    fill(list, all.length ? all : h("p", { class: "empty" }, "Nothing in the feed yet."));
  };
  return { el, render };
}
