//! Surveys: a name, an intro and a start button, then up to 10 questions of four kinds
//! — multiple choice (up to 8 options), icon choice, rating scale, open question —
//! each mandatory or not. An attendee submits once; a submission missing mandatory
//! answers is refused naming them.

use plenary_proto::v1::events::{SurveyAnswer, SurveyQuestion, SurveyQuestionKind, SurveySpec};

use super::{
    open,
    poll::{check_choice, check_options_up_to, check_question},
    rating,
};
use crate::context::command::Rejection;

pub const MAX_QUESTIONS: usize = 10;
pub const MAX_SURVEY_OPTIONS: usize = 8;
pub const MAX_NAME_CHARS: usize = 150;
pub const MAX_LABEL_CHARS: usize = 40;
pub const DEFAULT_INTRO: &str = "Please take a moment to take a quick survey";
pub const DEFAULT_START_LABEL: &str = "Take survey";
pub const DEFAULT_ICON_CTA: &str = "Start voting now";
pub const DEFAULT_RATING_CTA: &str = "Start rating now";

fn kind(q: &SurveyQuestion) -> SurveyQuestionKind {
    SurveyQuestionKind::try_from(q.kind).unwrap_or(SurveyQuestionKind::Unspecified)
}

/// The survey with its defaults filled in (the name: the context's).
pub fn with_defaults(mut survey: SurveySpec, context_name: &str) -> SurveySpec {
    let fill = |field: &mut String, default: &str| {
        if field.trim().is_empty() {
            *field = default.to_owned();
        }
    };
    fill(&mut survey.name, context_name);
    fill(&mut survey.intro, DEFAULT_INTRO);
    fill(&mut survey.start_label, DEFAULT_START_LABEL);
    for q in &mut survey.questions {
        match kind(q) {
            SurveyQuestionKind::IconChoice => fill(&mut q.text, DEFAULT_ICON_CTA),
            SurveyQuestionKind::Rating => fill(&mut q.text, DEFAULT_RATING_CTA),
            _ => {}
        }
    }
    survey
}

pub fn validate(survey: &SurveySpec) -> Result<(), Rejection> {
    let bad = |why: String| Err(Rejection::BadRequest(why));
    if survey.name.chars().count() > MAX_NAME_CHARS {
        return bad(format!(
            "a survey's name is at most {MAX_NAME_CHARS} characters"
        ));
    }
    check_question("intro", &survey.intro)?;
    if survey.start_label.chars().count() > MAX_LABEL_CHARS {
        return bad(format!(
            "the start button label is at most {MAX_LABEL_CHARS} characters"
        ));
    }
    if survey.questions.is_empty() || survey.questions.len() > MAX_QUESTIONS {
        return bad(format!(
            "a survey has 1 to {MAX_QUESTIONS} questions, not {}",
            survey.questions.len()
        ));
    }
    for (i, q) in survey.questions.iter().enumerate() {
        let n = i + 1;
        let about = |e: Rejection| Rejection::BadRequest(format!("question {n}: {e}"));
        match kind(q) {
            SurveyQuestionKind::MultipleChoice => {
                check_question("question", &q.text).map_err(about)?;
                check_options_up_to(&q.options, MAX_SURVEY_OPTIONS).map_err(about)?;
            }
            SurveyQuestionKind::IconChoice => {
                check_question("call to action", &q.text).map_err(about)?;
                if !(2..=MAX_SURVEY_OPTIONS).contains(&q.options.len()) {
                    return bad(format!(
                        "question {n}: 2 to {MAX_SURVEY_OPTIONS} icons, not {}",
                        q.options.len()
                    ));
                }
                for icon in &q.options {
                    rating::check_emoji(icon).map_err(about)?;
                }
            }
            SurveyQuestionKind::Rating => {
                check_question("call to action", &q.text).map_err(about)?;
                rating::check_emoji(&q.emoji).map_err(about)?;
            }
            SurveyQuestionKind::Open => check_question("question", &q.text).map_err(about)?,
            SurveyQuestionKind::Unspecified => {
                return bad(format!("question {n}: missing or unknown kind"));
            }
        }
    }
    Ok(())
}

/// Checks a submission: answers to existing questions, once each, valid for their
/// kind, and every mandatory question answered. Returns each answer as the report
/// shows it (`"<question>: <answer>"`).
pub fn check_vote(survey: &SurveySpec, answers: &[SurveyAnswer]) -> Result<Vec<String>, Rejection> {
    let bad = |why: String| Err(Rejection::BadRequest(why));
    let mut texts = Vec::with_capacity(answers.len());
    for (i, a) in answers.iter().enumerate() {
        let n = a.question as usize + 1;
        let Some(q) = survey.questions.get(a.question as usize) else {
            return bad(format!("question {n} does not exist"));
        };
        if answers[..i].iter().any(|b| b.question == a.question) {
            return bad(format!("question {n} is answered twice"));
        }
        let about = |e: Rejection| Rejection::BadRequest(format!("question {n}: {e}"));
        let shown = match kind(q) {
            SurveyQuestionKind::MultipleChoice | SurveyQuestionKind::IconChoice => {
                let multiple = kind(q) == SurveyQuestionKind::MultipleChoice && q.multiple_answers;
                check_choice(q.options.len(), multiple, &a.options).map_err(about)?;
                super::poll::texts(&q.options, &a.options).join(", ")
            }
            SurveyQuestionKind::Rating => {
                rating::check_vote(a.rating).map_err(about)?;
                a.rating.to_string()
            }
            SurveyQuestionKind::Open => {
                open::check_vote(&[], 0, &a.text).map_err(about)?;
                a.text.clone()
            }
            SurveyQuestionKind::Unspecified => return bad(format!("question {n}: unknown kind")),
        };
        texts.push(format!("{n}: {shown}"));
    }
    let missing: Vec<String> = survey
        .questions
        .iter()
        .enumerate()
        .filter(|(i, q)| q.mandatory && !answers.iter().any(|a| a.question as usize == *i))
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if !missing.is_empty() {
        return bad(format!(
            "mandatory questions not answered: {}",
            missing.join(", ")
        ));
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(kind: SurveyQuestionKind, options: usize, mandatory: bool) -> SurveyQuestion {
        SurveyQuestion {
            kind: kind as i32,
            text: "Which?".into(),
            options: (0..options).map(|i| format!("o{i}")).collect(),
            multiple_answers: false,
            emoji: "⭐".into(),
            mandatory,
        }
    }

    fn survey(questions: Vec<SurveyQuestion>) -> SurveySpec {
        with_defaults(
            SurveySpec {
                questions,
                ..Default::default()
            },
            "Quarterly all-hands",
        )
    }

    #[test]
    fn defaults_fill_the_name_intro_button_and_calls_to_action() {
        let mut icon = question(SurveyQuestionKind::IconChoice, 3, false);
        icon.text.clear();
        let s = survey(vec![icon]);
        assert_eq!(s.name, "Quarterly all-hands");
        assert_eq!(s.intro, DEFAULT_INTRO);
        assert_eq!(s.start_label, DEFAULT_START_LABEL);
        assert_eq!(s.questions[0].text, DEFAULT_ICON_CTA);
    }

    #[test]
    fn limits_ten_questions_eight_options_and_a_150_character_name() {
        let mc = || question(SurveyQuestionKind::MultipleChoice, 8, false);
        assert!(validate(&survey(vec![mc(); 10])).is_ok());
        assert!(validate(&survey(vec![mc(); 11])).is_err());
        assert!(
            validate(&survey(vec![question(
                SurveyQuestionKind::MultipleChoice,
                9,
                false
            )]))
            .is_err()
        );
        let mut long = survey(vec![mc()]);
        long.name = "x".repeat(151);
        assert!(validate(&long).is_err());
        assert!(
            validate(&survey(vec![question(
                SurveyQuestionKind::Unspecified,
                2,
                false
            )]))
            .is_err()
        );
    }

    #[test]
    fn a_submission_missing_mandatory_answers_is_refused_naming_them() {
        let s = survey(vec![
            question(SurveyQuestionKind::MultipleChoice, 3, true),
            question(SurveyQuestionKind::Rating, 0, false),
            question(SurveyQuestionKind::Open, 0, true),
        ]);
        let rate = SurveyAnswer {
            question: 1,
            rating: 4,
            ..Default::default()
        };
        assert_eq!(
            check_vote(&s, std::slice::from_ref(&rate)),
            Err(Rejection::BadRequest(
                "mandatory questions not answered: 1, 3".into()
            ))
        );
        let answers = vec![
            SurveyAnswer {
                question: 0,
                options: vec![2],
                ..Default::default()
            },
            rate,
            SurveyAnswer {
                question: 2,
                text: "More demos".into(),
                ..Default::default()
            },
        ];
        assert_eq!(
            check_vote(&s, &answers).unwrap(),
            ["1: o2", "2: 4", "3: More demos"]
        );
        let mut twice = answers.clone();
        twice.push(answers[0].clone());
        assert!(check_vote(&s, &twice).is_err());
    }
}
