//! Who was seen in which context, for private chat's people search: "users who share a
//! context with me". A session records its user when it joins a context; embedded mode
//! keeps the directory in memory (forgetting a context nobody has been joined to for a
//! while), cluster mode in one Redis hash per context (expiring a week after the last
//! join), so every node sees everyone.

use std::{collections::HashMap, sync::Arc, time::Duration};

use dashmap::DashMap;
use plenary_bus::redis::{Keys, RedisConn, presence};
use tokio::time::Instant;
use tracing::warn;

mod search;

pub use search::{Match, Query, find_people};

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
    Memory(DashMap<Arc<str>, Members>),
    Redis { conn: RedisConn, keys: Keys },
}

/// The people seen in one context (embedded mode): user id → (given, family) name.
#[derive(Debug)]
pub struct Members {
    people: HashMap<String, (String, String)>,
    /// When someone was last joined to the context.
    seen: Instant,
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
                let mut members = map.entry(Arc::from(context)).or_insert_with(|| Members {
                    people: HashMap::new(),
                    seen: Instant::now(),
                });
                members.seen = Instant::now();
                let people = &mut members.people;
                if people.len() < MAX_PER_CONTEXT || people.contains_key(user) {
                    people.insert(user.to_owned(), (given.to_owned(), family.to_owned()));
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
                Directory::Memory(map) => {
                    map.get(context).and_then(|m| m.people.get(user).cloned())
                }
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
                    m.people
                        .iter()
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

    /// Embedded mode: forgets the people of every context nobody has been joined to
    /// (`joined` says who is) for `idle` — as long as an idle context actor stays in
    /// memory — so the directory does not grow with every context ever joined, and
    /// gives back the room. Cluster mode: Redis expires them.
    pub fn forget_idle(&self, idle: Duration, joined: impl Fn(&str) -> bool) {
        let Directory::Memory(map) = self else {
            return;
        };
        let now = Instant::now();
        map.retain(|context, members| {
            if joined(context) {
                members.seen = now;
            }
            now.duration_since(members.seen) < idle
        });
        map.shrink_to_fit();
    }

    /// Contexts whose people are remembered in memory (embedded mode).
    pub fn contexts_in_memory(&self) -> usize {
        match self {
            Directory::Memory(map) => map.len(),
            Directory::Redis { .. } => 0,
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

    #[tokio::test(start_paused = true)]
    async fn memory_directory_forgets_a_context_nobody_joined_for_a_while() {
        let idle = Duration::from_secs(600);
        let d = Directory::memory();
        d.add("left", "u1", "Nova", "Jones").await;
        d.add("busy", "u2", "Con", "Chen").await;
        let busy = |context: &str| context == "busy";
        tokio::time::advance(idle - Duration::from_secs(1)).await;
        d.forget_idle(idle, busy);
        assert_eq!(d.contexts_in_memory(), 2, "not idle long enough yet");
        tokio::time::advance(Duration::from_secs(1)).await;
        d.forget_idle(idle, busy);
        assert!(d.members("left").await.unwrap().is_empty());
        assert_eq!(
            d.members("busy").await.unwrap(),
            vec![member("u2", "Con", "Chen")],
            "someone is joined: kept"
        );
        // The last one left: forgotten an idle time later, unless someone joins again.
        tokio::time::advance(idle - Duration::from_secs(1)).await;
        d.add("busy", "u3", "Ada", "Park").await;
        tokio::time::advance(Duration::from_secs(1)).await;
        d.forget_idle(idle, |_| false);
        assert_eq!(d.members("busy").await.unwrap().len(), 2);
        tokio::time::advance(idle).await;
        d.forget_idle(idle, |_| false);
        assert_eq!(d.contexts_in_memory(), 0);
    }
}
