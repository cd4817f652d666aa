//! The Q&A threads of one ingested batch: every thread step of the batch is applied to
//! an in-memory overlay (the threads it touched, the claims in force, the waits it
//! opened) and written at the batch's end in a few multi-row statements, instead of
//! about three statements an event. Within the batch the overlay answers what the
//! store would have: who a message in a thread is to, which claim a resolution ended,
//! which waits a moderator's message answers.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use plenary_proto::v1::events::Actor;
use sqlx::AnyConnection;

use super::{MESSAGES_PER_INSERT, StoreError, placeholders, repeat_rows};
use crate::projection::{Posted, ThreadStep};

type Key = (String, u64);

/// A thread's row as the batch leaves it.
struct Row {
    /// `Some`: opened in this batch (inserted); `None`: stored before (updated).
    attendee: Option<String>,
    state: &'static str,
    owner_id: String,
    owner_email: String,
    opened_ms: i64,
    changed_ms: i64,
}

/// A wait opened in this batch (opened or reopened thread), and the moderator message
/// of this batch that answered it.
struct Wait {
    key: Key,
    started_ms: i64,
    replied: Option<(i64, String, String)>,
}

/// A resolution, and the claim it ended: one of this batch (`Some(Some)`), none
/// because this batch ended it (`Some(None)`), or whatever the store holds (`None`).
struct Resolution {
    key: Key,
    moderator: (String, String),
    claimed_here: Option<Option<i64>>,
    resolved_ms: i64,
}

/// The batch's thread changes (see the module docs).
#[derive(Default)]
pub(super) struct Threads {
    rows: BTreeMap<Key, Row>,
    /// Claims in force as the batch leaves them: (moderator, claimed at), `None` where
    /// the batch ended one.
    in_force: BTreeMap<Key, Option<(String, i64)>>,
    claims: Vec<(Key, String, String, i64)>,
    resolutions: Vec<Resolution>,
    waits: Vec<Wait>,
    /// Stored waits answered: the first moderator message of the batch in each thread.
    answers: Vec<(Key, i64, String, String)>,
    answered: HashSet<Key>,
    /// Threads resolved or cleared in this batch before any reply: their stored waits
    /// still open end unanswered (deleted at the end), and no later reply answers them.
    closed: BTreeSet<Key>,
}

impl Threads {
    /// Applies one step of a thread.
    pub(super) fn step(
        &mut self,
        key: Key,
        step: ThreadStep,
        attendee_id: Option<String>,
        owner: Option<Actor>,
        at_ms: u64,
    ) {
        let at = at_ms as i64;
        let (owner_id, owner_email) = owner.map(|o| (o.user_id, o.email)).unwrap_or_default();
        match step {
            ThreadStep::Opened | ThreadStep::Reopened => self.waits.push(Wait {
                key: key.clone(),
                started_ms: at,
                replied: None,
            }),
            ThreadStep::Claimed => {
                self.claims
                    .push((key.clone(), owner_id.clone(), owner_email.clone(), at))
            }
            ThreadStep::Resolved => self.resolutions.push(Resolution {
                key: key.clone(),
                moderator: (owner_id.clone(), owner_email.clone()),
                claimed_here: self
                    .in_force
                    .get(&key)
                    .map(|c| c.as_ref().map(|(_, at)| *at)),
                resolved_ms: at,
            }),
            ThreadStep::Released | ThreadStep::Cleared => {}
        }
        // A resolved or cleared thread waits for nobody: its open waits end unanswered
        // (no value), so a reply after a reopening answers only the reopening's wait.
        if matches!(step, ThreadStep::Resolved | ThreadStep::Cleared) {
            self.waits.retain(|w| w.key != key || w.replied.is_some());
            if !self.answered.contains(&key) {
                self.closed.insert(key.clone());
            }
        }
        // Every step but a claim ends the claim in force (a new thread has none).
        match step {
            ThreadStep::Claimed => {
                self.in_force
                    .insert(key.clone(), Some((owner_id.clone(), at)));
            }
            ThreadStep::Opened => {}
            _ => {
                self.in_force.insert(key.clone(), None);
            }
        }
        let state = step.state();
        match attendee_id {
            // Opened: a new row, unowned.
            Some(attendee) => {
                self.rows.entry(key).or_insert(Row {
                    attendee: Some(attendee),
                    state,
                    owner_id: String::new(),
                    owner_email: String::new(),
                    opened_ms: at,
                    changed_ms: at,
                });
            }
            None => {
                let row = self.rows.entry(key).or_insert(Row {
                    attendee: None,
                    state,
                    owner_id: String::new(),
                    owner_email: String::new(),
                    opened_ms: 0,
                    changed_ms: at,
                });
                row.state = state;
                row.owner_id = owner_id;
                row.owner_email = owner_email;
                row.changed_ms = at;
            }
        }
    }

    /// Who a message is to, when the batch knows (`None`: as the stored thread says).
    /// In a Q&A thread: its attendee (a moderator's message) or its owner now (the
    /// attendee's; nobody while it is unowned); nobody outside threads.
    pub(super) fn recipient(&self, m: &Posted) -> Option<String> {
        if m.thread_id == 0 {
            return Some(String::new());
        }
        let row = self.rows.get(&(m.context_id.clone(), m.thread_id))?;
        if m.author.moderator {
            row.attendee.clone()
        } else {
            Some(row.owner_id.clone())
        }
    }

    /// A moderator's message in a thread answers the waits open on it: the ones this
    /// batch opened (here) and the stored ones (at the end, once per thread).
    pub(super) fn moderator_message(&mut self, m: &Posted) {
        if m.thread_id == 0 || !m.author.moderator {
            return;
        }
        let key = (m.context_id.clone(), m.thread_id);
        let at = m.at_ms as i64;
        let replier = (m.author.user_id.clone(), m.author.email.clone());
        for wait in &mut self.waits {
            if wait.key == key && wait.replied.is_none() && wait.started_ms <= at {
                wait.replied = Some((at, replier.0.clone(), replier.1.clone()));
            }
        }
        if !self.closed.contains(&key) && self.answered.insert(key.clone()) {
            self.answers.push((key, at, replier.0, replier.1));
        }
    }

    /// Writes the batch's thread changes (after its messages).
    pub(super) async fn write(self, tx: &mut AnyConnection) -> Result<(), StoreError> {
        // Stored waits first, so the ones this batch opened are not taken for them.
        for chunk in self.answers.chunks(MESSAGES_PER_INSERT) {
            let sql = format!(
                "UPDATE waits SET replied_ms = v.column3, replier_id = v.column4, \
                 replier_email = v.column5 FROM (VALUES {}) AS v \
                 WHERE waits.context_id = v.column1 AND waits.thread_id = v.column2 \
                 AND waits.replied_ms IS NULL AND waits.started_ms <= v.column3",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for ((context_id, thread_id), at, id, email) in chunk {
                query = query
                    .bind(context_id)
                    .bind(*thread_id as i64)
                    .bind(*at)
                    .bind(id)
                    .bind(email);
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in self
            .closed
            .iter()
            .collect::<Vec<_>>()
            .chunks(MESSAGES_PER_INSERT)
        {
            let sql = format!(
                "DELETE FROM waits WHERE replied_ms IS NULL AND (context_id, thread_id) IN \
                 (VALUES {})",
                placeholders(chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for (context_id, thread_id) in chunk {
                query = query.bind(context_id).bind(*thread_id as i64);
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in self.waits.chunks(MESSAGES_PER_INSERT) {
            let sql = format!(
                "INSERT INTO waits (context_id, thread_id, started_ms, replied_ms, replier_id, \
                 replier_email) VALUES {} ON CONFLICT DO NOTHING",
                placeholders(chunk.len(), 6)
            );
            let mut query = sqlx::query(&sql);
            for w in chunk {
                let (replied, id, email) = match &w.replied {
                    Some((at, id, email)) => (Some(*at), id.as_str(), email.as_str()),
                    None => (None, "", ""),
                };
                query = query
                    .bind(&w.key.0)
                    .bind(w.key.1 as i64)
                    .bind(w.started_ms)
                    .bind(replied)
                    .bind(id)
                    .bind(email);
            }
            query.execute(&mut *tx).await?;
        }
        let (opened, stored): (Vec<_>, Vec<_>) =
            self.rows.iter().partition(|(_, r)| r.attendee.is_some());
        for chunk in opened.chunks(MESSAGES_PER_INSERT) {
            let sql = format!(
                "INSERT INTO threads (context_id, thread_id, attendee_id, state, owner_id, \
                 owner_email, opened_ms, changed_ms) VALUES {} ON CONFLICT (context_id, thread_id) \
                 DO UPDATE SET state = excluded.state, owner_id = excluded.owner_id, \
                 owner_email = excluded.owner_email, changed_ms = excluded.changed_ms",
                placeholders(chunk.len(), 8)
            );
            let mut query = sqlx::query(&sql);
            for ((context_id, thread_id), r) in chunk {
                query = query
                    .bind(context_id)
                    .bind(*thread_id as i64)
                    .bind(r.attendee.as_deref().unwrap_or_default())
                    .bind(r.state)
                    .bind(&r.owner_id)
                    .bind(&r.owner_email)
                    .bind(r.opened_ms)
                    .bind(r.changed_ms);
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in stored.chunks(MESSAGES_PER_INSERT) {
            let sql = format!(
                "UPDATE threads SET state = v.column3, owner_id = v.column4, \
                 owner_email = v.column5, changed_ms = v.column6 FROM (VALUES {}) AS v \
                 WHERE threads.context_id = v.column1 AND threads.thread_id = v.column2",
                placeholders(chunk.len(), 6)
            );
            let mut query = sqlx::query(&sql);
            for ((context_id, thread_id), r) in chunk {
                query = query
                    .bind(context_id)
                    .bind(*thread_id as i64)
                    .bind(r.state)
                    .bind(&r.owner_id)
                    .bind(&r.owner_email)
                    .bind(r.changed_ms);
            }
            query.execute(&mut *tx).await?;
        }
        // Before the claims in force change: a resolution of a claim made before this
        // batch reads it from the store.
        for chunk in self.resolutions.chunks(MESSAGES_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO resolutions (context_id, thread_id, moderator_id, \
                 moderator_email, claimed_ms, resolved_ms) VALUES ",
            );
            sql.push_str(&repeat_rows(
                "($1, $2, $3, $4, CASE WHEN $5 THEN $6 ELSE (SELECT claimed_ms \
                 FROM current_claims WHERE context_id = $1 AND thread_id = $2) END, $7)",
                7,
                chunk.len(),
            ));
            let mut query = sqlx::query(&sql);
            for r in chunk {
                query = query
                    .bind(&r.key.0)
                    .bind(r.key.1 as i64)
                    .bind(&r.moderator.0)
                    .bind(&r.moderator.1)
                    .bind(r.claimed_here.is_some())
                    .bind(r.claimed_here.flatten())
                    .bind(r.resolved_ms);
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in self.claims.chunks(MESSAGES_PER_INSERT) {
            let sql = format!(
                "INSERT INTO claims (context_id, thread_id, moderator_id, moderator_email, \
                 at_ms) VALUES {}",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for ((context_id, thread_id), id, email, at) in chunk {
                query = query
                    .bind(context_id)
                    .bind(*thread_id as i64)
                    .bind(id)
                    .bind(email)
                    .bind(*at);
            }
            query.execute(&mut *tx).await?;
        }
        let (held, ended): (Vec<_>, Vec<_>) = self.in_force.iter().partition(|(_, c)| c.is_some());
        for chunk in held.chunks(MESSAGES_PER_INSERT) {
            let sql = format!(
                "INSERT INTO current_claims (context_id, thread_id, moderator_id, claimed_ms) \
                 VALUES {} ON CONFLICT (context_id, thread_id) DO UPDATE SET \
                 moderator_id = excluded.moderator_id, claimed_ms = excluded.claimed_ms",
                placeholders(chunk.len(), 4)
            );
            let mut query = sqlx::query(&sql);
            for ((context_id, thread_id), claim) in chunk {
                let (moderator, at) = claim.as_ref().map_or(("", 0), |(m, at)| (m.as_str(), *at));
                query = query
                    .bind(context_id)
                    .bind(*thread_id as i64)
                    .bind(moderator)
                    .bind(at);
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in ended.chunks(MESSAGES_PER_INSERT) {
            let sql = format!(
                "DELETE FROM current_claims WHERE (context_id, thread_id) IN (VALUES {})",
                placeholders(chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for ((context_id, thread_id), _) in chunk {
                query = query.bind(context_id).bind(*thread_id as i64);
            }
            query.execute(&mut *tx).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moderator(id: &str) -> Actor {
        Actor {
            user_id: id.into(),
            email: format!("{id}@example.com"),
            moderator: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_resolution_reads_the_claim_the_batch_made_or_ended_or_else_the_stores() {
        let mut t = Threads::default();
        let k = |n: u64| ("w".to_owned(), n);
        t.step(k(1), ThreadStep::Claimed, None, Some(moderator("m")), 10);
        t.step(k(1), ThreadStep::Resolved, None, Some(moderator("m")), 20);
        t.step(k(2), ThreadStep::Released, None, None, 30);
        t.step(k(2), ThreadStep::Resolved, None, Some(moderator("m")), 40);
        t.step(k(3), ThreadStep::Resolved, None, Some(moderator("m")), 50);
        let claimed: Vec<_> = t.resolutions.iter().map(|r| r.claimed_here).collect();
        assert_eq!(claimed, [Some(Some(10)), Some(None), None]);
        assert!(t.in_force.values().all(Option::is_none), "all ended");
    }

    #[test]
    fn messages_go_to_the_attendee_or_the_owner_as_the_batch_left_them() {
        let mut t = Threads::default();
        let key = ("w".to_owned(), 7);
        t.step(key.clone(), ThreadStep::Opened, Some("att".into()), None, 1);
        let message = |moderator: bool| Posted {
            context_id: "w".into(),
            message_id: 1,
            author: Actor {
                user_id: if moderator { "m" } else { "att" }.into(),
                moderator,
                ..Default::default()
            },
            thread_id: 7,
            backchannel: false,
            text: String::new(),
            at_ms: 5,
        };
        assert_eq!(t.recipient(&message(false)), Some(String::new()), "unowned");
        t.step(
            key.clone(),
            ThreadStep::Claimed,
            None,
            Some(moderator("m")),
            2,
        );
        assert_eq!(t.recipient(&message(false)).as_deref(), Some("m"));
        assert_eq!(t.recipient(&message(true)).as_deref(), Some("att"));
        t.moderator_message(&message(true));
        assert_eq!(t.waits[0].replied.as_ref().map(|r| r.0), Some(5));
        let stored = Posted {
            thread_id: 8,
            ..message(true)
        };
        assert_eq!(
            t.recipient(&stored),
            None,
            "a thread of an earlier batch: ask the store"
        );
    }
}
