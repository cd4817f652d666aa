//! People search: who among the members of my contexts matches a query, named as each
//! chose to be shown.

use std::{collections::HashSet, sync::Arc};

use plenary_actors::{ContextRegistry, Identity, Rejection, user::inbox::display_name};
use plenary_proto::v1::{PeerStatus, Person};

use super::{Directory, Member};

/// Pages of people whose cards one search reads at most.
const PEOPLE_PAGES: usize = 3;

/// How a member matches a search: every word of the query must start a word of the
/// name or the user id (case-insensitive); an empty query matches everyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    No,
    /// Without the family name (given name and user id are enough).
    Plainly,
    /// Only thanks to the family name: shown only if the person shows it.
    ByFamilyName,
}

/// A people search, its words lowercased once for every member it is matched with.
#[derive(Debug)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    pub fn new(query: &str) -> Self {
        Query {
            words: query
                .to_lowercase()
                .split_whitespace()
                .map(String::from)
                .collect(),
        }
    }

    /// An empty query (suggestions) matches everyone.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// How `member` matches.
    pub fn match_of(&self, member: &Member) -> Match {
        if self.words.is_empty() {
            return Match::Plainly;
        }
        let (given, id) = (
            member.given_name.to_lowercase(),
            member.user_id.to_lowercase(),
        );
        let plain: Vec<&str> = given
            .split_whitespace()
            .chain(id.split_whitespace())
            .collect();
        let starts = |q: &str, words: &[&str]| words.iter().any(|w| w.starts_with(q));
        if self.words.iter().all(|q| starts(q, &plain)) {
            return Match::Plainly;
        }
        let family = member.family_name.to_lowercase();
        let family: Vec<&str> = family.split_whitespace().collect();
        if self
            .words
            .iter()
            .all(|q| starts(q, &plain) || starts(q, &family))
        {
            Match::ByFamilyName
        } else {
            Match::No
        }
    }
}

/// People among the members of `contexts` matching `query` (everyone for
/// suggestions, then without those already connected), named as each chose to show,
/// sorted by given name. Someone who hides their family name is never found by it.
pub async fn find_people(
    registry: &ContextRegistry,
    directory: &Directory,
    identity: &Identity,
    contexts: &[Arc<str>],
    query: &str,
    limit: usize,
) -> Result<Vec<Person>, Rejection> {
    let mine = registry.user_card(&identity.user_id, true).await?;
    let query = Query::new(query);
    let suggest = query.is_empty();
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for context in contexts {
        let members = directory
            .members(context)
            .await
            .map_err(|e| Rejection::Unavailable(format!("people search failed: {e}; retry")))?;
        for member in members {
            let how = query.match_of(&member);
            if member.user_id == identity.user_id || how == Match::No {
                continue;
            }
            let status = mine
                .statuses
                .get(&member.user_id)
                .copied()
                .unwrap_or(PeerStatus::None as i32);
            if suggest && status == PeerStatus::Connected as i32 {
                continue;
            }
            if seen.insert(member.user_id.clone()) {
                found.push((member, status, how));
            }
        }
    }
    // Only the first pages are ever shown: pick them before sorting.
    let key = |(m, _, _): &(Member, i32, Match)| (m.given_name.to_lowercase(), m.user_id.clone());
    let keep = limit.max(1) * PEOPLE_PAGES;
    if found.len() > keep {
        found.select_nth_unstable_by_key(keep, key);
        found.truncate(keep);
    }
    found.sort_by_cached_key(key);
    // Each person as they chose to be shown, from their own actor: a page at a
    // time, a few pages at most, until `limit` people are kept.
    let mut people = Vec::with_capacity(limit);
    for page in found.chunks(limit.max(1)).take(PEOPLE_PAGES) {
        let cards = futures_util::future::join_all(
            page.iter()
                .map(|(m, _, _)| registry.user_card(&m.user_id, false)),
        )
        .await;
        for ((member, status, how), card) in page.iter().zip(cards) {
            // Without their card, assume they hide it.
            let shows = card.as_ref().is_ok_and(|c| c.shows_last_name);
            if *how == Match::ByFamilyName && !shows {
                continue;
            }
            let name = match card {
                Ok(card) if card.known => card.party.name,
                _ => display_name(
                    &member.user_id,
                    &member.given_name,
                    &member.family_name,
                    shows,
                ),
            };
            people.push(Person {
                user_id: member.user_id.clone(),
                name,
                status: *status,
            });
            if people.len() == limit {
                return Ok(people);
            }
        }
    }
    Ok(people)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_matches_word_prefixes() {
        let nova = Member {
            user_id: "u1".into(),
            given_name: "Nova".into(),
            family_name: "Jones".into(),
        };
        let match_of = |q: &str| Query::new(q).match_of(&nova);
        assert_eq!(match_of(""), Match::Plainly);
        assert_eq!(match_of("nov"), Match::Plainly);
        assert_eq!(match_of("U1"), Match::Plainly);
        assert_eq!(match_of("jo no"), Match::ByFamilyName);
        assert_eq!(match_of("jones"), Match::ByFamilyName);
        assert_eq!(match_of("ones"), Match::No);
        assert_eq!(match_of("nova smith"), Match::No);
    }
}
