//! Polls: a question and 2 to 5 options, results shared or not, one or several answers.
//! Pure: the spec's limits, a vote's validity, and the tally a vote changes.

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

/// Votes per option.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollTally {
    pub counts: Vec<u32>,
}

impl Poll {
    /// Checks the poll's limits: a question, 2 to 5 distinct non-empty options.
    pub fn validate(&self) -> Result<(), Rejection> {
        let bad = |why: String| Err(Rejection::BadRequest(why));
        let chars = self.question.trim().chars().count();
        if chars == 0 || self.question.chars().count() > MAX_QUESTION_CHARS {
            return bad(format!(
                "a poll's question must be 1 to {MAX_QUESTION_CHARS} characters"
            ));
        }
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&self.options.len()) {
            return bad(format!(
                "a poll has {MIN_OPTIONS} to {MAX_OPTIONS} options, not {}",
                self.options.len()
            ));
        }
        for (i, option) in self.options.iter().enumerate() {
            if option.trim().is_empty() || option.chars().count() > MAX_OPTION_CHARS {
                return bad(format!(
                    "option {} must be 1 to {MAX_OPTION_CHARS} characters",
                    i + 1
                ));
            }
            if self.options[..i].iter().any(|o| o.trim() == option.trim()) {
                return bad(format!("option {} repeats an earlier option", i + 1));
            }
        }
        Ok(())
    }

    /// Checks a vote's chosen options: distinct, existing, one unless the poll allows
    /// several.
    pub fn check_vote(&self, options: &[u32]) -> Result<(), Rejection> {
        let bad = |why: String| Err(Rejection::BadRequest(why));
        if options.is_empty() {
            return bad("a vote chooses at least one option".into());
        }
        if !self.multiple_answers && options.len() > 1 {
            return bad("this poll takes one answer".into());
        }
        for (i, &o) in options.iter().enumerate() {
            if o as usize >= self.options.len() {
                return bad(format!(
                    "option {o} does not exist (this poll has options 0 to {})",
                    self.options.len() - 1
                ));
            }
            if options[..i].contains(&o) {
                return bad(format!("option {o} is chosen twice"));
            }
        }
        Ok(())
    }

    /// The texts of chosen options (as the report shows them).
    pub fn texts(&self, options: &[u32]) -> Vec<String> {
        options
            .iter()
            .filter_map(|&o| self.options.get(o as usize).cloned())
            .collect()
    }

    pub fn empty_tally(&self) -> PollTally {
        PollTally {
            counts: vec![0; self.options.len()],
        }
    }
}

impl PollTally {
    /// Counts one (checked) vote.
    pub fn count(&mut self, options: &[u32]) {
        for &o in options {
            if let Some(count) = self.counts.get_mut(o as usize) {
                *count += 1;
            }
        }
    }
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
            Err(Rejection::BadRequest(
                "a poll has 2 to 5 options, not 6".into()
            ))
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
        assert_eq!(multiple.texts(&[2, 0]), ["c", "a"]);
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
