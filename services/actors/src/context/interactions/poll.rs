//! Polls: a question and 2 to 5 options, results shared or not, one or several answers.
//! Pure: the spec's limits and a vote's validity; the option checks quizzes share.

use plenary_proto::v1::events::PollSpec;

use crate::context::command::Rejection;

/// Fewest and most options a poll has.
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 5;
/// Longest question and option, in characters.
pub const MAX_QUESTION_CHARS: usize = 500;
pub const MAX_OPTION_CHARS: usize = 200;

/// Checks a poll's limits: a question, 2 to 5 distinct non-empty options.
pub fn validate(poll: &PollSpec) -> Result<(), Rejection> {
    check_question("question", &poll.question)?;
    check_options(&poll.options)
}

/// Checks a vote's chosen options: distinct, existing, one unless the poll allows
/// several.
pub fn check_vote(poll: &PollSpec, options: &[u32]) -> Result<(), Rejection> {
    check_choice(poll.options.len(), poll.multiple_answers, options)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(options: &[&str], multiple: bool) -> PollSpec {
        PollSpec {
            question: "Which?".into(),
            options: options.iter().map(|o| o.to_string()).collect(),
            share_results: false,
            multiple_answers: multiple,
        }
    }

    #[test]
    fn a_poll_has_a_question_and_two_to_five_distinct_options() {
        assert!(validate(&poll(&["a", "b"], false)).is_ok());
        assert!(validate(&poll(&["a", "b", "c", "d", "e"], false)).is_ok());
        let six = validate(&poll(&["a", "b", "c", "d", "e", "f"], false));
        assert_eq!(
            six,
            Err(Rejection::BadRequest("2 to 5 options, not 6".into()))
        );
        assert!(validate(&poll(&["a"], false)).is_err());
        assert!(validate(&poll(&["a", " "], false)).is_err());
        assert!(validate(&poll(&["a", "a "], false)).is_err());
        let mut empty = poll(&["a", "b"], false);
        empty.question = "  ".into();
        assert!(validate(&empty).is_err());
        let mut long = poll(&["a", "b"], false);
        long.question = "x".repeat(MAX_QUESTION_CHARS + 1);
        assert!(validate(&long).is_err());
    }

    #[test]
    fn a_vote_chooses_existing_distinct_options_one_unless_several_are_allowed() {
        let single = poll(&["a", "b", "c"], false);
        assert!(check_vote(&single, &[2]).is_ok());
        assert!(check_vote(&single, &[]).is_err());
        assert!(check_vote(&single, &[0, 1]).is_err());
        assert!(check_vote(&single, &[3]).is_err());
        let multiple = poll(&["a", "b", "c"], true);
        assert!(check_vote(&multiple, &[0, 2]).is_ok());
        assert!(check_vote(&multiple, &[1, 1]).is_err());
        assert_eq!(texts(&multiple.options, &[2, 0]), ["c", "a"]);
    }
}
