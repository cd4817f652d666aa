// Moderators' Interactions tab: create a poll, quiz question, rating scale, crowd vote,
// open-ended question or announcement; save it as a draft or publish it now; the
// drafts (edit, publish, delete) and what is published (results, end, unpublish).

import { attempt, clientId, fill, h } from "./dom";
import { interactionCard, KIND_LABEL, kindOf, titleOf } from "./feed";
import type { Session } from "./session";
import type { Json } from "./state";

const EMOJI = ["⭐", "❤️", "👍", "🔥", "🎉"];

export function interactionsView(session: Session) {
  let editing = 0; // the draft being edited, 0: a new one
  const kind = h("select", { "data-testid": "interaction-kind" },
    ["poll", "quiz", "rating", "crowd_vote", "open_question", "announcement"].map((k) => h("option", { value: k }, KIND_LABEL[k])));
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
        : [label(k === "rating" || k === "crowd_vote" ? "Statement" : "Question", question),
           k === "poll" || k === "quiz" ? [optionList, h("button", { class: "link", onclick: () => addOption() }, "+ Add option")] : null,
           k === "rating" || k === "crowd_vote" ? label("Emoji", emoji) : null,
           k === "poll" ? h("label", {}, multiple, " Enable multiple answers") : null,
           k === "quiz" ? h("label", {}, showCorrect, " Show the correct answer when it ends") : null,
           h("label", {}, share, " Share results with attendees")]);
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

  const spec = (): Json => {
    const k = kind.value;
    const rows = [...optionList.querySelectorAll(".option-input")];
    const options = rows.map((r) => (r.querySelector("input[type=text]") as HTMLInputElement).value);
    switch (k) {
      case "poll":
        return { poll: { question: question.value, options, share_results: share.checked, multiple_answers: multiple.checked } };
      case "quiz":
        return { quiz: { question: question.value, options, correct: rows.map((r, n) => ((r.querySelector(".correct") as HTMLInputElement).checked ? n : -1)).filter((n) => n >= 0), show_correct: showCorrect.checked, share_results: share.checked } };
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

  const action = (id: number, what: string) =>
    attempt(session.command("interaction_action", { context_id: session.ctx.id, interaction_id: id, action: `INTERACTION_ACTION_KIND_${what}` }));

  const save = async (publish: boolean) => {
    let id = editing;
    const saved = await attempt(session.command("save_interaction", {
      context_id: session.ctx.id, interaction_id: editing, spec: spec(), ...(editing ? {} : { client_save_id: clientId("s") }),
    }).then((r) => (id = r.interaction_id)));
    if (!saved) return;
    if (publish) await action(id, "PUBLISH");
    reset();
  };

  const edit = (i: Json) => {
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
    (s.options ?? []).forEach((o: string, n: number) => addOption(o, (s.correct ?? []).includes(n)));
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
    const all = [...session.ctx.interactions.values()].sort((a, b) => a.id - b.id);
    const draftList = all.filter((i) => i.status === "INTERACTION_STATUS_DRAFT");
    fill(drafts, draftList.length ? draftList.map((i) => h("div", { class: "draft row", "data-testid": "draft", "data-id": i.id },
      h("span", { class: "kind" }, KIND_LABEL[kindOf(i)]), h("span", { class: "grow" }, titleOf(i)),
      h("button", { onclick: () => edit(i) }, "✎ Edit"),
      h("button", { class: "primary", "data-testid": "publish-draft", onclick: () => action(i.id, "PUBLISH") }, "Publish now"),
      h("button", { onclick: () => action(i.id, "DELETE") }, "🗑"))) : h("p", { class: "empty" }, "No drafts."));
    const published = all.filter((i) => i.status !== "INTERACTION_STATUS_DRAFT").reverse();
    fill(live, published.length ? published.map((i) => interactionCard(session, i)) : h("p", { class: "empty" }, "Nothing published yet."));
  };
  return { el, render };
}
