//! Crowd votes: a statement attendees back by tapping its emoji. The result is the
//! number of voters and their share of the attendees present.

use plenary_proto::v1::events::CrowdVoteSpec;

use super::{poll::check_question, rating::check_emoji};
use crate::context::command::Rejection;

pub fn validate(crowd: &CrowdVoteSpec) -> Result<(), Rejection> {
    check_question("statement", &crowd.statement)?;
    check_emoji(&crowd.emoji)
}

/// A tap carries nothing: options or a rating are a mistake.
pub fn check_vote(options: &[u32], rating: u32) -> Result<(), Rejection> {
    if !options.is_empty() || rating != 0 {
        return Err(Rejection::BadRequest(
            "a crowd vote is a tap: no options, no rating".into(),
        ));
    }
    Ok(())
}

/// Voters as a percentage of the attendees present, capped at 100 (voters who left
/// still count); 0 when nobody is known to be present.
pub fn share(voters: u32, present: u32) -> f64 {
    if present == 0 {
        return 0.0;
    }
    (f64::from(voters) * 100.0 / f64::from(present)).min(100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_is_of_the_attendees_present_and_at_most_all_of_them() {
        assert_eq!(share(0, 0), 0.0);
        assert_eq!(share(3, 0), 0.0);
        assert_eq!(share(1, 4), 25.0);
        assert_eq!(share(5, 4), 100.0);
    }
}
