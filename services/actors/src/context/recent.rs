//! The pushes a context actor published lately, as they went out (encoded once): a
//! client that rejoins within their reach gets exactly those bytes in its `missed`,
//! instead of pushes rendered from events and encoded again for every rejoin. Bounded
//! by count and bytes; older rejoins are answered from the event log as before.

use std::{collections::VecDeque, sync::Arc};

use plenary_bus::Channel;
use plenary_proto::encoded::EncodedPush;

/// At most this many pushes are kept (a few seconds of a busy room: 512 pushes are
/// 10 s at 50 messages a second)...
pub(super) const RECENT_PUSHES: usize = 512;
/// ...and at most this many bytes of them (both subprotocols' frames).
pub(super) const RECENT_BYTES: usize = 512 * 1024;

/// One push published on one channel.
struct Published {
    seq: u64,
    channel: Channel,
    encoded: Arc<EncodedPush>,
}

/// The recent pushes of one epoch, oldest first.
pub(super) struct RecentPushes {
    pushes: VecDeque<Published>,
    bytes: usize,
    epoch: u64,
    /// Every push of `epoch` with a seq above this is still here.
    complete_after: u64,
}

impl RecentPushes {
    /// Nothing kept yet: a stream at `(epoch, seq)` (loaded, or new) published nothing
    /// this actor knows of up to `seq`.
    pub(super) fn new(epoch: u64, seq: u64) -> Self {
        RecentPushes {
            pushes: VecDeque::new(),
            bytes: 0,
            epoch,
            complete_after: seq,
        }
    }

    /// Keeps a push just published (an event's: `seq` above 0), dropping the oldest
    /// beyond the bounds.
    pub(super) fn record(
        &mut self,
        epoch: u64,
        seq: u64,
        channel: &Channel,
        encoded: Arc<EncodedPush>,
    ) {
        if epoch != self.epoch {
            // A new epoch (the context was reset): nothing before it is recoverable.
            *self = RecentPushes::new(epoch, seq.saturating_sub(1));
        }
        self.bytes += encoded.size();
        self.pushes.push_back(Published {
            seq,
            channel: channel.clone(),
            encoded,
        });
        while self.pushes.len() > RECENT_PUSHES || self.bytes > RECENT_BYTES {
            let Some(oldest) = self.pushes.pop_front() else {
                break;
            };
            self.bytes -= oldest.encoded.size();
            self.complete_after = self.complete_after.max(oldest.seq);
        }
    }

    /// The pushes on `channels` after `since` up to `through`, in publish order, or
    /// `None` when some of them are no longer kept (or `since` is of another epoch).
    pub(super) fn between(
        &self,
        epoch: u64,
        since: u64,
        through: u64,
        channels: &[&Channel],
    ) -> Option<Vec<(u64, Arc<EncodedPush>)>> {
        if epoch != self.epoch || since < self.complete_after {
            return None;
        }
        Some(
            self.pushes
                .iter()
                .filter(|p| p.seq > since && p.seq <= through && channels.contains(&&p.channel))
                .map(|p| (p.seq, p.encoded.clone()))
                .collect(),
        )
    }

    /// Bytes held (for the memory bound's tests).
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use plenary_proto::v1::{Push, Update, push::Body};

    use super::*;

    fn encoded(seq: u64, text_len: usize) -> Arc<EncodedPush> {
        Arc::new(EncodedPush::new(&Push {
            context_id: "c".into(),
            epoch: 1,
            seq,
            body: Some(Body::Update(Update {
                text: "u".repeat(text_len),
                ..Default::default()
            })),
        }))
    }

    #[test]
    fn what_is_kept_is_found_by_channel_and_seq() {
        let public = Channel::ContextPublic("c".into());
        let mine = Channel::ContextUser("c".into(), "me".into());
        let theirs = Channel::ContextUser("c".into(), "them".into());
        let mut recent = RecentPushes::new(1, 10);
        recent.record(1, 11, &public, encoded(11, 1));
        recent.record(1, 12, &theirs, encoded(12, 1));
        recent.record(1, 13, &mine, encoded(13, 1));
        recent.record(1, 14, &public, encoded(14, 1));
        let seqs = |found: Option<Vec<(u64, Arc<EncodedPush>)>>| {
            found.map(|f| f.into_iter().map(|(seq, _)| seq).collect::<Vec<_>>())
        };
        assert_eq!(
            seqs(recent.between(1, 10, 14, &[&public, &mine])),
            Some(vec![11, 13, 14])
        );
        assert_eq!(
            seqs(recent.between(1, 11, 13, &[&public, &mine])),
            Some(vec![13])
        );
        // Before what was kept from the start, another epoch: not here.
        assert_eq!(seqs(recent.between(1, 9, 14, &[&public])), None);
        assert_eq!(seqs(recent.between(2, 10, 14, &[&public])), None);
    }

    #[test]
    fn the_oldest_leave_beyond_the_bounds_and_take_their_reach_along() {
        let public = Channel::ContextPublic("c".into());
        let mut recent = RecentPushes::new(1, 0);
        for seq in 1..=RECENT_PUSHES as u64 + 10 {
            recent.record(1, seq, &public, encoded(seq, 1));
        }
        assert!(recent.between(1, 9, 600, &[&public]).is_none());
        assert_eq!(
            recent.between(1, 10, 600, &[&public]).unwrap().len(),
            RECENT_PUSHES
        );
        // Large pushes: the byte bound.
        let mut recent = RecentPushes::new(1, 0);
        for seq in 1..=100 {
            recent.record(1, seq, &public, encoded(seq, 20_000));
        }
        assert!(recent.bytes() <= RECENT_BYTES);
        let kept = recent.between(1, 100 - 12, 100, &[&public]).unwrap().len();
        assert!((10..=12).contains(&kept), "{kept}");
        assert!(recent.between(1, 50, 100, &[&public]).is_none());
        // A new epoch starts over.
        recent.record(2, 1, &public, encoded(1, 1));
        assert_eq!(recent.between(2, 0, 1, &[&public]).unwrap().len(), 1);
        assert!(recent.between(1, 99, 100, &[&public]).is_none());
    }
}
