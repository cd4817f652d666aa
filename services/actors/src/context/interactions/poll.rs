//! Polls: a question and 2 to 5 options, results shared or not, one or several answers.
//! Pure: the spec's limits and a vote's validity; the option checks quizzes share.

use plenary_proto::v1::{self, events};
use serde::{Deserialize, Serialize};

use crate::context::command::Rejection;

/// Fewest and most options a poll has.
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 5;
/// Longest question and option, in characters.
pub const MAX_QUESTION_CHARS: usize = 500;
pub const MAX_OPTION_CHARS: usize = 200;

/// A poll as its moderator wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    pub question: String,
    pub options: Vec<String>,
    pub share_results: bool,
    pub multiple_answers: bool,
}

impl Poll {
    /// Checks the poll's limits: a question, 2 to 5 distinct non-empty options.
    pub fn validate(&self) -> Result<(), Rejection> {
        check_question("question", &self.question)?;
        check_options(&self.options)
    }

    /// Checks a vote's chosen options: distinct, existing, one unless the poll allows
    /// several.
    pub fn check_vote(&self, options: &[u32]) -> Result<(), Rejection> {
        check_choice(self.options.len(), self.multiple_answers, options)
    }
}

/// Checks a question or statement: something visible, at most 500 characters.
pub fn check_question(field: &str, text: &str) -> Result<(), Rejection> {
    if text.trim().is_empty() || text.chars().count() > MAX_QUESTION_CHARS {
        return Err(Rejection::BadRequest(format!(
            "the {field} must be 1 to {MAX_QUESTION_CHARS} characters"
        )));
    }
    Ok(())
}

/// Checks a list of options (a poll's, a quiz's): 2 to 5, each 1 to 200 characters,
/// no two the same.
pub fn check_options(options: &[String]) -> Result<(), Rejection> {
    check_options_up_to(options, MAX_OPTIONS)
}

/// [`check_options`] with another most (a survey's multiple choice takes 8).
pub fn check_options_up_to(options: &[String], max: usize) -> Result<(), Rejection> {
    let bad = |why: String| Err(Rejection::BadRequest(why));
    if !(MIN_OPTIONS..=max).contains(&options.len()) {
        return bad(format!(
            "{MIN_OPTIONS} to {max} options, not {}",
            options.len()
        ));
    }
    for (i, option) in options.iter().enumerate() {
        if option.trim().is_empty() || option.chars().count() > MAX_OPTION_CHARS {
            return bad(format!(
                "option {} must be 1 to {MAX_OPTION_CHARS} characters",
                i + 1
            ));
        }
        if options[..i].iter().any(|o| o.trim() == option.trim()) {
            return bad(format!("option {} repeats an earlier option", i + 1));
        }
    }
    Ok(())
}

/// Checks chosen options: at least one, distinct, existing, one unless several may be.
pub fn check_choice(count: usize, multiple: bool, chosen: &[u32]) -> Result<(), Rejection> {
    let bad = |why: String| Err(Rejection::BadRequest(why));
    if chosen.is_empty() {
        return bad("a vote chooses at least one option".into());
    }
    if !multiple && chosen.len() > 1 {
        return bad("this takes one answer".into());
    }
    for (i, &o) in chosen.iter().enumerate() {
        if o as usize >= count {
            return bad(format!(
                "option {o} does not exist (options are 0 to {})",
                count - 1
            ));
        }
        if chosen[..i].contains(&o) {
            return bad(format!("option {o} is chosen twice"));
        }
    }
    Ok(())
}

/// The texts of chosen options (as the report shows them).
pub fn texts(options: &[String], chosen: &[u32]) -> Vec<String> {
    chosen
        .iter()
        .filter_map(|&o| options.get(o as usize).cloned())
        .collect()
}

impl From<&events::PollSpec> for Poll {
    fn from(p: &events::PollSpec) -> Self {
        Poll {
            question: p.question.clone(),
            options: p.options.clone(),
            share_results: p.share_results,
            multiple_answers: p.multiple_answers,
        }
    }
}

impl From<&v1::PollSpec> for Poll {
    fn from(p: &v1::PollSpec) -> Self {
        Poll {
            question: p.question.clone(),
            options: p.options.clone(),
            share_results: p.share_results,
            multiple_answers: p.multiple_answers,
        }
    }
}

impl From<&Poll> for events::PollSpec {
    fn from(p: &Poll) -> Self {
        events::PollSpec {
            question: p.question.clone(),
            options: p.options.clone(),
            share_results: p.share_results,
            multiple_answers: p.multiple_answers,
        }
    }
}

impl From<&Poll> for v1::PollSpec {
    fn from(p: &Poll) -> Self {
        v1::PollSpec {
            question: p.question.clone(),
            options: p.options.clone(),
            share_results: p.share_results,
            multiple_answers: p.multiple_answers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(options: &[&str], multiple: bool) -> Poll {
        Poll {
            question: "Which?".into(),
            options: options.iter().map(|o| o.to_string()).collect(),
            share_results: false,
            multiple_answers: multiple,
        }
    }

    #[test]
    fn a_poll_has_a_question_and_two_to_five_distinct_options() {
        assert!(poll(&["a", "b"], false).validate().is_ok());
        assert!(poll(&["a", "b", "c", "d", "e"], false).validate().is_ok());
        let six = poll(&["a", "b", "c", "d", "e", "f"], false).validate();
        assert_eq!(
            six,
            Err(Rejection::BadRequest("2 to 5 options, not 6".into()))
        );
        assert!(poll(&["a"], false).validate().is_err());
        assert!(poll(&["a", " "], false).validate().is_err());
        assert!(poll(&["a", "a "], false).validate().is_err());
        let mut empty = poll(&["a", "b"], false);
        empty.question = "  ".into();
        assert!(empty.validate().is_err());
        let mut long = poll(&["a", "b"], false);
        long.question = "x".repeat(MAX_QUESTION_CHARS + 1);
        assert!(long.validate().is_err());
    }

    #[test]
    fn a_vote_chooses_existing_distinct_options_one_unless_several_are_allowed() {
        let single = poll(&["a", "b", "c"], false);
        assert!(single.check_vote(&[2]).is_ok());
        assert!(single.check_vote(&[]).is_err());
        assert!(single.check_vote(&[0, 1]).is_err());
        assert!(single.check_vote(&[3]).is_err());
        let multiple = poll(&["a", "b", "c"], true);
        assert!(multiple.check_vote(&[0, 2]).is_ok());
        assert!(multiple.check_vote(&[1, 1]).is_err());
        assert_eq!(texts(&multiple.options, &[2, 0]), ["c", "a"]);
    }

    #[test]
    fn a_poll_keeps_every_field_from_the_wire_to_the_log_and_back() {
        let wire = v1::PollSpec {
            question: "Q".into(),
            options: vec!["a".into(), "b".into()],
            share_results: true,
            multiple_answers: true,
        };
        let stored = events::PollSpec::from(&Poll::from(&wire));
        assert_eq!(v1::PollSpec::from(&Poll::from(&stored)), wire);
    }
}
