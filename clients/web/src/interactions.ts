// Moderators' Interactions tab: create a poll, quiz question, rating scale, crowd vote,
// open-ended question or announcement; save it as a draft or publish it now; the
// drafts (edit, publish, delete) and what is published (results, end, unpublish).

import { attempt, clientId, fill, h, result } from "./dom";
import { interactionCard, KIND_LABEL, specOf, titleOf, type Kind } from "./feed";
import { InteractionActionKind, InteractionStatus, type CommandBody, type Interaction } from "./sdk";
import type { Session } from "./session";
import { byId } from "./state";

const EMOJI = ["⭐", "❤️", "👍", "🔥", "🎉"];

export function interactionsView(session: Session) {
  let editing = 0n; // the draft being edited, 0: a new one
  const kinds: Kind[] = ["poll", "quiz", "rating", "crowdVote", "openQuestion", "announcement"];
  const kind = h("select", { "data-testid": "interaction-kind" }, kinds.map((k) => h("option", { value: k }, KIND_LABEL[k])));
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
  const text = h("textarea", { rows: 3, maxlength: 2000 });
  const ctaLabel = h("input", { type: "text", maxlength: 40, placeholder: "Button label" });
  const ctaUrl = h("input", { type: "url", placeholder: "https://…" });

  const addOption = (value = "", correct = false) => {
    if (optionList.children.length >= 5) return;
    const row = h("div", { class: "row option-input" },
      h("input", { type: "checkbox", class: "correct", title: "Correct answer", checked: correct }),
      h("input", { type: "text", maxlength: 200, value, placeholder: `Option ${optionList.children.length + 1}`, "data-testid": "interaction-option" }),
      h("button", { class: "small", title: "Remove", onclick: () => optionList.children.length > 2 && row.remove() }, "🗑"));
    optionList.append(row);
  };

  const layout = () => {
    const k = kind.value;
    const label = (text: string, input: HTMLElement) => h("label", { class: "field" }, h("span", {}, text), input);
    optionList.classList.toggle("quiz", k === "quiz");
    fill(fields,
      k === "announcement"
        ? [label("Title (optional)", title), label("Announcement", text), label("Call to action (optional)", h("div", { class: "row" }, ctaLabel, ctaUrl))]
        : [label(k === "rating" || k === "crowdVote" ? "Statement" : "Question", question),
           k === "poll" || k === "quiz" ? [optionList, h("button", { class: "link", onclick: () => addOption() }, "+ Add option")] : null,
           k === "rating" || k === "crowdVote" ? label("Emoji", emoji) : null,
           k === "poll" ? h("label", {}, multiple, " Enable multiple answers") : null,
           k === "quiz" ? h("label", {}, showCorrect, " Show the correct answer when it ends") : null,
           h("label", {}, share, " Share results with attendees")]);
  };
  kind.addEventListener("change", layout);

  const reset = () => {
    editing = 0n;
    for (const input of [question, title, text, ctaLabel, ctaUrl]) input.value = "";
    share.checked = multiple.checked = false;
    optionList.replaceChildren();
    addOption();
    addOption();
    layout();
  };

  const spec = (): CommandBody<"saveInteraction">["spec"] => {
    const rows = [...optionList.querySelectorAll(".option-input")];
    const options = rows.map((r) => (r.querySelector("input[type=text]") as HTMLInputElement).value);
    const correct = rows.map((r, n) => ((r.querySelector(".correct") as HTMLInputElement).checked ? n : -1)).filter((n) => n >= 0);
    const shareResults = share.checked;
    const kinds = {
      poll: { question: question.value, options, shareResults, multipleAnswers: multiple.checked },
      quiz: { question: question.value, options, correct, showCorrect: showCorrect.checked, shareResults },
      rating: { statement: question.value, emoji: emoji.value, shareResults },
      crowdVote: { statement: question.value, emoji: emoji.value, shareResults },
      openQuestion: { question: question.value, shareResults },
      announcement: { title: title.value, text: text.value, ctaLabel: ctaLabel.value, ctaUrl: ctaUrl.value },
    };
    const k = kind.value as keyof typeof kinds;
    return { kind: { case: k, value: kinds[k] } } as CommandBody<"saveInteraction">["spec"];
  };

  const action = (id: bigint, action: InteractionActionKind) =>
    attempt(session.client.interactionAction({ contextId: session.ctx.id, interactionId: id, action }));

  const save = async (publish: boolean) => {
    const saved = await result(session.client.saveInteraction({
      contextId: session.ctx.id, interactionId: editing, spec: spec(), clientSaveId: editing ? "" : clientId("s"),
    }));
    if (!saved) return;
    if (publish) await action(saved.interactionId, InteractionActionKind.PUBLISH);
    reset();
  };

  const edit = (i: Interaction) => {
    const s = specOf(i);
    if (!s.case || s.case === "survey") return;
    editing = i.id;
    kind.value = s.case;
    // Every kind's fields, read where they exist.
    const v = s.value as Partial<Record<string, unknown>>;
    question.value = String(v.question ?? v.statement ?? "");
    share.checked = !!v.shareResults;
    multiple.checked = !!v.multipleAnswers;
    if (v.emoji) emoji.value = String(v.emoji);
    title.value = String(v.title ?? "");
    text.value = String(v.text ?? "");
    ctaLabel.value = String(v.ctaLabel ?? "");
    ctaUrl.value = String(v.ctaUrl ?? "");
    optionList.replaceChildren();
    const correct = (v.correct as number[] | undefined) ?? [];
    ((v.options as string[] | undefined) ?? []).forEach((o, n) => addOption(o, correct.includes(n)));
    layout();
  };

  const el = h("section", { class: "view", "data-testid": "interactions-view" },
    h("div", { class: "card editor" },
      h("div", { class: "row" }, h("strong", {}, "Create"), kind),
      fields,
      h("div", { class: "row" },
        h("button", { "data-testid": "save-draft", onclick: () => save(false) }, "Save as draft"),
        h("button", { class: "primary", "data-testid": "publish-now", onclick: () => save(true) }, "Publish now"))),
    h("h3", {}, "Interactions drafts"), drafts,
    h("h3", {}, "Published"), live);
  reset();

  const render = () => {
    const all = [...session.ctx.interactions.values()].sort(byId((i) => i.id));
    const draftList = all.filter((i) => i.status === InteractionStatus.DRAFT);
    fill(drafts, draftList.length ? draftList.map((i) => h("div", { class: "draft row", "data-testid": "draft", "data-id": String(i.id) },
      h("span", { class: "kind" }, KIND_LABEL[specOf(i).case ?? "poll"]), h("span", { class: "grow" }, titleOf(i)),
      specOf(i).case !== "survey" ? h("button", { onclick: () => edit(i) }, "✎ Edit") : null,
      h("button", { class: "primary", "data-testid": "publish-draft", onclick: () => action(i.id, InteractionActionKind.PUBLISH) }, "Publish now"),
      h("button", { title: "Delete", onclick: () => action(i.id, InteractionActionKind.DELETE) }, "🗑"))) : h("p", { class: "empty" }, "No drafts."));
    const published = all.filter((i) => session.ctx.isPublished(i)).reverse();
    fill(live, published.length ? published.map((i) => interactionCard(session, i)) : h("p", { class: "empty" }, "Nothing published yet."));
  };
  return { el, render };
}
