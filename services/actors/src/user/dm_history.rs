//! A page of a conversation's history older than its memory: the reads of the log it
//! needs and what they found, with no I/O (the conversation actor's task does the
//! reads). A message's id is the seq of its `DirectMessagePosted` event.

use std::collections::HashSet;

use plenary_proto::v1::{
    DirectMessage,
    events::{ConversationEvent, conversation_event::Kind},
};

use serde::{Deserialize, Serialize};

/// One batch of messages that left memory: those with ids up to `up_to`, when event
/// `seq` was applied. Deletes touch only messages in memory, so everything that changed
/// them is in the log before `seq`: history reads no further to render them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveMark {
    pub up_to: u64,
    pub seq: u64,
}

/// Events read backwards at most, per read, looking for archived messages.
const BACKWARD_CHUNK_MAX: usize = 500;
/// Events read forwards per read, looking for deletes of archived messages.
const FORWARD_CHUNK: usize = 1_000;

/// One read of a conversation's log: its events with seqs in `from..=to`, at most
/// `limit`, newest first or oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRead {
    pub from: u64,
    pub to: u64,
    pub limit: usize,
    pub newest_first: bool,
}

/// Where a [`HistoryPage`] stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Posted events below `cursor` are wanted.
    Backward,
    /// Deletes among `from..=to` are wanted, to settle the messages just found.
    Forward {
        from: u64,
        to: u64,
    },
    Done,
}

/// A `dm_history` page being put together, without I/O: the messages in memory, and
/// the reads of the log ([`LogRead`]) that find the archived ones, which the caller
/// does one after the other (`next_read`, then `take` its answer) before `finish`.
///
/// A message's id is the seq of its `DirectMessagePosted` event. Archived messages
/// are found reading posted events backwards from the archive's end (or `before_id`);
/// each batch found is settled by reading forwards from its oldest up to the archive
/// mark that covers its newest: a delete of it, if any, is in that range. Deleted
/// messages are left out. Messages are read until one more than the page is known
/// (so `has_more` is exact) or the log holds nothing older (in cluster mode, Redis
/// keeps only a capped tail of each stream).
#[derive(Debug)]
pub struct HistoryPage {
    pub(super) peer_id: String,
    pub(super) limit: usize,
    /// Visible messages from memory, oldest first (up to one more than the page).
    pub(super) newer: Vec<DirectMessage>,
    /// Visible archived messages found, newest first.
    pub(super) older: Vec<DirectMessage>,
    pub(super) step: Step,
    /// The next backward read ends at this seq (0: nothing older to read).
    pub(super) cursor: u64,
    pub(super) marks: Vec<ArchiveMark>,
    pub(super) deleted_late: Vec<u64>,
    /// The conversation's seq when the page was asked for.
    pub(super) seq: u64,
    /// Archived messages found, not yet settled, newest first.
    pub(super) pending: Vec<DirectMessage>,
    /// Message ids whose delete the forward reads found.
    pub(super) deleted: HashSet<u64>,
    /// The oldest seq read forwards so far: later forward reads stop below it.
    pub(super) scanned_from: u64,
}

impl HistoryPage {
    /// Visible messages still wanted: one more than the page holds, for `has_more`.
    pub(super) fn wanted(&self) -> usize {
        (self.limit + 1).saturating_sub(self.newer.len() + self.older.len())
    }

    /// The seq before which everything that changed archived message `id` happened:
    /// that of the mark covering it.
    fn settled_at(&self, id: u64) -> u64 {
        let i = self.marks.partition_point(|m| m.up_to < id);
        self.marks.get(i).map_or(self.seq, |m| m.seq)
    }

    /// The next read of the log this page needs, or `None` when it is complete.
    pub fn next_read(&self) -> Option<LogRead> {
        match self.step {
            Step::Done => None,
            Step::Backward => Some(LogRead {
                from: 1,
                to: self.cursor,
                // Other events (read markers, deletes) come between messages.
                limit: (2 * self.wanted()).clamp(32, BACKWARD_CHUNK_MAX),
                newest_first: true,
            }),
            Step::Forward { from, to } => Some(LogRead {
                from,
                to,
                limit: FORWARD_CHUNK,
                newest_first: false,
            }),
        }
    }

    /// Takes the log's answer to the read [`Self::next_read`] asked for.
    pub fn take(&mut self, events: Vec<ConversationEvent>) {
        let Some(read) = self.next_read() else {
            return;
        };
        let full = events.len() >= read.limit;
        match self.step {
            Step::Done => {}
            Step::Backward => {
                let oldest = events.iter().map(|e| e.seq).min().unwrap_or(0);
                // A short answer: the log holds nothing older.
                self.cursor = if full { oldest.saturating_sub(1) } else { 0 };
                for event in &events {
                    if let Some(message) = self.archived(event) {
                        self.pending.push(message);
                    }
                }
                self.pending
                    .sort_unstable_by_key(|m| std::cmp::Reverse(m.message_id));
                match (self.pending.first(), self.pending.last()) {
                    (Some(newest), Some(oldest)) => {
                        let from = oldest.message_id;
                        let to = self
                            .settled_at(newest.message_id)
                            .min(self.scanned_from.saturating_sub(1))
                            .max(from);
                        self.scanned_from = from;
                        self.step = Step::Forward { from, to };
                    }
                    _ => self.after_settling(),
                }
            }
            Step::Forward { to, .. } => {
                for event in &events {
                    if let Some(Kind::DirectMessageDeleted(d)) = &event.kind {
                        self.deleted.insert(d.message_id);
                    }
                }
                match events.last() {
                    Some(last) if full && last.seq < to => {
                        self.step = Step::Forward {
                            from: last.seq + 1,
                            to,
                        };
                    }
                    _ => {
                        let (deleted, late) = (&self.deleted, &self.deleted_late);
                        self.older.extend(self.pending.drain(..).filter(|m| {
                            !deleted.contains(&m.message_id) && !late.contains(&m.message_id)
                        }));
                        self.after_settling();
                    }
                }
            }
        }
    }

    fn after_settling(&mut self) {
        self.step = if self.wanted() == 0 || self.cursor == 0 {
            Step::Done
        } else {
            Step::Backward
        };
    }

    /// A posted event as the message it shows.
    fn archived(&self, event: &ConversationEvent) -> Option<DirectMessage> {
        let Some(Kind::DirectMessagePosted(m)) = &event.kind else {
            return None;
        };
        Some(DirectMessage {
            peer_id: self.peer_id.clone(),
            message_id: event.seq,
            sender_id: m.sender_id.clone(),
            text: m.text.clone(),
            sent_at_ms: event.at_ms,
            client_msg_id: m.client_msg_id.clone(),
        })
    }

    /// The page, oldest first, and whether older messages exist (as far as the log
    /// holds them).
    pub fn finish(self) -> (Vec<DirectMessage>, bool) {
        let mut all = self.older;
        all.reverse();
        all.extend(self.newer);
        let has_more = all.len() > self.limit;
        let page = all.split_off(all.len().saturating_sub(self.limit));
        (page, has_more)
    }
}
