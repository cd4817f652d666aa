//! Who was seen in which context, for private chat's people search: "users who share a
//! context with me". A session records its user when it joins a context; embedded mode
//! keeps the directory in memory, cluster mode in one Redis hash per context (expiring
//! a week after the last join), so every node sees everyone.

use std::{collections::HashMap, sync::Arc, time::Duration};

use dashmap::DashMap;
use plenary_bus::redis::{Keys, RedisConn, presence};
use tracing::warn;

/// How long a context's directory outlives its last join (cluster mode).
const DIRECTORY_TTL: Duration = Duration::from_secs(7 * 24 * 3_600);
/// Most people remembered per context in memory (embedded mode).
const MAX_PER_CONTEXT: usize = 100_000;

/// A user seen in a context: given and family name from their token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub given_name: String,
    pub family_name: String,
}

/// The directory of context members.
pub enum Directory {
    Memory(DashMap<Arc<str>, HashMap<String, (String, String)>>),
    Redis { conn: RedisConn, keys: Keys },
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Directory::Memory(_) => "Directory::Memory",
            Directory::Redis { .. } => "Directory::Redis",
        })
    }
}

impl Directory {
    pub fn memory() -> Self {
        Directory::Memory(DashMap::new())
    }

    /// Records a member of a context. Failures only cost search results: logged.
    pub async fn add(&self, context: &str, user: &str, given: &str, family: &str) {
        match self {
            Directory::Memory(map) => {
                let mut members = map.entry(Arc::from(context)).or_default();
                if members.len() < MAX_PER_CONTEXT || members.contains_key(user) {
                    members.insert(user.to_owned(), (given.to_owned(), family.to_owned()));
                }
            }
            Directory::Redis { conn, keys } => {
                let mut conn = conn.clone();
                if let Err(e) = presence::directory_add(
                    &mut conn,
                    keys,
                    context,
                    user,
                    (given, family),
                    DIRECTORY_TTL,
                )
                .await
                {
                    warn!(error = %e, context, "recording a context member failed");
                }
            }
        }
    }

    /// A member of any of `contexts`, if recorded.
    pub async fn find(&self, contexts: &[Arc<str>], user: &str) -> Option<Member> {
        for context in contexts {
            let names = match self {
                Directory::Memory(map) => map.get(context).and_then(|m| m.get(user).cloned()),
                Directory::Redis { conn, keys } => {
                    let mut conn = conn.clone();
                    presence::directory_get(&mut conn, keys, context, user)
                        .await
                        .ok()
                        .flatten()
                }
            };
            if let Some((given_name, family_name)) = names {
                return Some(Member {
                    user_id: user.to_owned(),
                    given_name,
                    family_name,
                });
            }
        }
        None
    }

    /// Everyone recorded in a context.
    pub async fn members(&self, context: &str) -> Result<Vec<Member>, String> {
        let rows = match self {
            Directory::Memory(map) => map
                .get(context)
                .map(|m| {
                    m.iter()
                        .map(|(u, (g, f))| (u.clone(), g.clone(), f.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            Directory::Redis { conn, keys } => {
                let mut conn = conn.clone();
                presence::directory_members(&mut conn, keys, context)
                    .await
                    .map_err(|e| e.to_string())?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(user_id, given_name, family_name)| Member {
                user_id,
                given_name,
                family_name,
            })
            .collect())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, given: &str, family: &str) -> Member {
        Member {
            user_id: id.into(),
            given_name: given.into(),
            family_name: family.into(),
        }
    }

    #[test]
    fn search_matches_word_prefixes() {
        let nova = member("u1", "Nova", "Jones");
        let match_of = |q: &str| Query::new(q).match_of(&nova);
        assert_eq!(match_of(""), Match::Plainly);
        assert_eq!(match_of("nov"), Match::Plainly);
        assert_eq!(match_of("U1"), Match::Plainly);
        assert_eq!(match_of("jo no"), Match::ByFamilyName);
        assert_eq!(match_of("jones"), Match::ByFamilyName);
        assert_eq!(match_of("ones"), Match::No);
        assert_eq!(match_of("nova smith"), Match::No);
    }

    #[tokio::test]
    async fn memory_directory_lists_members_of_a_context() {
        let d = Directory::memory();
        d.add("c", "u1", "Nova", "Jones").await;
        d.add("c", "u1", "Nova", "Jones").await;
        d.add("other", "u2", "Con", "Chen").await;
        let members = d.members("c").await.unwrap();
        assert_eq!(members, vec![member("u1", "Nova", "Jones")]);
        assert!(d.members("none").await.unwrap().is_empty());
        let contexts: Vec<Arc<str>> = vec!["none".into(), "other".into()];
        assert_eq!(
            d.find(&contexts, "u2").await,
            Some(member("u2", "Con", "Chen"))
        );
        assert_eq!(d.find(&contexts, "u1").await, None);
    }
}
