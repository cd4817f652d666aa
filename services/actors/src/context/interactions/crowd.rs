//! Crowd votes: a statement attendees back by tapping its emoji. The result is the
//! number of voters.

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
