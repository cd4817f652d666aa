//! Rating scales: a statement rated from 1 to 5 with an emoji; the results are the
//! distribution and the mean.

use plenary_proto::v1::events::RatingSpec;

use super::poll::check_question;
use crate::context::command::Rejection;

/// The scale: 1 to this.
pub const MAX_RATING: u32 = 5;
/// Longest emoji, in characters (an emoji may be several code points).
pub const MAX_EMOJI_CHARS: usize = 8;

pub fn validate(rating: &RatingSpec) -> Result<(), Rejection> {
    check_question("statement", &rating.statement)?;
    check_emoji(&rating.emoji)
}

/// An emoji: 1 to 8 characters, no white space.
pub fn check_emoji(emoji: &str) -> Result<(), Rejection> {
    let chars = emoji.chars().count();
    if chars == 0 || chars > MAX_EMOJI_CHARS || emoji.chars().any(char::is_whitespace) {
        return Err(Rejection::BadRequest(format!(
            "the emoji must be 1 to {MAX_EMOJI_CHARS} characters without spaces"
        )));
    }
    Ok(())
}

pub fn check_vote(rating: u32) -> Result<(), Rejection> {
    if !(1..=MAX_RATING).contains(&rating) {
        return Err(Rejection::BadRequest(format!(
            "a rating is 1 to {MAX_RATING}, not {rating}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rating_is_one_to_five_of_a_statement_with_an_emoji() {
        let spec = RatingSpec {
            statement: "How was it?".into(),
            emoji: "⭐".into(),
            share_results: true,
        };
        assert!(validate(&spec).is_ok());
        assert!(
            validate(&RatingSpec {
                emoji: String::new(),
                ..spec.clone()
            })
            .is_err()
        );
        assert!(
            validate(&RatingSpec {
                statement: " ".into(),
                ..spec
            })
            .is_err()
        );
        assert!(check_vote(1).is_ok() && check_vote(5).is_ok());
        assert!(check_vote(0).is_err() && check_vote(6).is_err());
    }
}
