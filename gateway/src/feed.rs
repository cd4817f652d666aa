//! One joined context's pushes for one session: the shared broadcast (public or
//! moderators) merged with the attendee's own queue, in seq order.
//!
//! Both are fed by one dispatcher in publish (seq) order — the context actor in
//! embedded mode, the node's single Redis subscriber in cluster mode — so when one
//! source yields a push, any push with a smaller seq is already waiting in the other:
//! taking the smaller of the two heads gives exactly the publish order.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};

use crate::hub::Outbound;

/// Why a feed cannot go on.
#[derive(Debug)]
pub enum FeedError {
    /// Fell this many pushes behind the shared broadcast.
    Lagged(u64),
    /// The attendee's own queue overflowed (the session did not read).
    UserQueueOverflow,
}

/// A session's pushes of one context.
pub struct ContextFeed {
    shared: BroadcastStream<Arc<Outbound>>,
    own: Option<mpsc::Receiver<Arc<Outbound>>>,
    shared_head: Option<Arc<Outbound>>,
    own_head: Option<Arc<Outbound>>,
    shared_ended: bool,
}

impl ContextFeed {
    pub fn new(
        shared: BroadcastStream<Arc<Outbound>>,
        own: Option<mpsc::Receiver<Arc<Outbound>>>,
    ) -> Self {
        ContextFeed {
            shared,
            own,
            shared_head: None,
            own_head: None,
            shared_ended: false,
        }
    }
}

impl Stream for ContextFeed {
    type Item = Result<Arc<Outbound>, FeedError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(Err(e)) = this.fill_shared(cx) {
            return Poll::Ready(Some(Err(e)));
        }
        if this.own_head.is_none()
            && let Some(own) = &mut this.own
        {
            match own.poll_recv(cx) {
                Poll::Ready(Some(item)) => {
                    this.own_head = Some(item);
                    // The shared source may have received a smaller seq since it was
                    // polled above: everything published before this push is there now.
                    if let Some(Err(e)) = this.fill_shared(cx) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(Some(Err(FeedError::UserQueueOverflow))),
                Poll::Pending => {}
            }
        }
        let take_own = match (&this.shared_head, &this.own_head) {
            // (A push that is not an event goes by the seq it follows, after it.)
            (Some(shared), Some(own)) => own.order < shared.order,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (None, None) if this.shared_ended => return Poll::Ready(None),
            (None, None) => return Poll::Pending,
        };
        let item = if take_own {
            this.own_head.take()
        } else {
            this.shared_head.take()
        };
        Poll::Ready(item.map(Ok))
    }
}

impl ContextFeed {
    /// Takes the next shared push into `shared_head` if one is waiting. `Some(Err)` when
    /// the listener lagged.
    fn fill_shared(&mut self, cx: &mut Context<'_>) -> Option<Result<(), FeedError>> {
        if self.shared_head.is_some() || self.shared_ended {
            return None;
        }
        match Pin::new(&mut self.shared).poll_next(cx) {
            Poll::Ready(Some(Ok(item))) => {
                self.shared_head = Some(item);
                Some(Ok(()))
            }
            Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(n)))) => {
                Some(Err(FeedError::Lagged(n)))
            }
            Poll::Ready(None) => {
                self.shared_ended = true;
                None
            }
            Poll::Pending => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use plenary_bus::{Channel, LocalDelivery};
    use plenary_proto::v1::{Push, internal::BusPush};

    use super::*;
    use crate::hub::Hub;

    #[tokio::test]
    async fn merges_shared_and_own_pushes_in_seq_order() {
        let hub = Hub::new(16);
        let (ctx, me): (Arc<str>, Arc<str>) = ("c".into(), "me".into());
        let public = Channel::ContextPublic(ctx.clone());
        let shared = BroadcastStream::new(hub.subscribe(public.clone()));
        let own = hub.subscribe_user(&ctx, &me);
        let mut feed = ContextFeed::new(shared, Some(own));
        let mine = Channel::ContextUser(ctx.clone(), me.clone());
        let other = Channel::ContextUser(ctx.clone(), "other".into());
        for (seq, channel) in [
            (1, &public),
            (2, &mine),
            (3, &other),
            (4, &public),
            (5, &mine),
            (6, &mine),
            (7, &public),
        ] {
            hub.deliver(
                channel,
                BusPush {
                    push: Some(Push {
                        seq,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            );
        }
        let mut seqs = Vec::new();
        for _ in 0..6 {
            seqs.push(feed.next().await.unwrap().unwrap().seq);
        }
        assert_eq!(
            seqs,
            vec![1, 2, 4, 5, 6, 7],
            "in order, without other users' pushes"
        );
    }

    #[tokio::test]
    async fn a_push_that_is_no_event_keeps_its_place_after_the_events_before_it() {
        use plenary_proto::v1::{Leaderboard, push::Body};
        let hub = Hub::new(16);
        let (ctx, me): (Arc<str>, Arc<str>) = ("c".into(), "me".into());
        let public = Channel::ContextPublic(ctx.clone());
        let shared = BroadcastStream::new(hub.subscribe(public.clone()));
        let own = hub.subscribe_user(&ctx, &me);
        let mut feed = ContextFeed::new(shared, Some(own));
        let mine = Channel::ContextUser(ctx.clone(), me.clone());
        let event = |seq| BusPush {
            push: Some(Push {
                seq,
                ..Default::default()
            }),
            ..Default::default()
        };
        // Events 1 and 2 on the public channel, then a rank (seq 0) published after
        // event 2 on the user's own queue, then event 3.
        hub.deliver(&public, event(1));
        hub.deliver(&public, event(2));
        hub.deliver(
            &mine,
            BusPush {
                push: Some(Push {
                    seq: 0,
                    body: Some(Body::Rank(Leaderboard::default())),
                    ..Default::default()
                }),
                prev_seq: 2,
                ..Default::default()
            },
        );
        hub.deliver(&public, event(3));
        let mut order = Vec::new();
        for _ in 0..4 {
            let item = feed.next().await.unwrap().unwrap();
            order.push((item.seq, item.ephemeral));
        }
        assert_eq!(order, [(1, false), (2, false), (0, true), (3, false)]);
    }

    #[tokio::test]
    async fn an_unread_own_queue_ends_the_feed_as_overflow() {
        let hub = Hub::new(16);
        let (ctx, me): (Arc<str>, Arc<str>) = ("c".into(), "me".into());
        let shared = BroadcastStream::new(hub.subscribe(Channel::ContextPublic(ctx.clone())));
        let own = hub.subscribe_user(&ctx, &me);
        let mut feed = ContextFeed::new(shared, Some(own));
        let mine = Channel::ContextUser(ctx.clone(), me.clone());
        for seq in 0..(crate::hub::USER_QUEUE as u64 + 1) {
            hub.deliver(
                &mine,
                BusPush {
                    push: Some(Push {
                        seq,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            );
        }
        let mut overflowed = false;
        while let Some(item) = feed.next().await {
            if matches!(item, Err(FeedError::UserQueueOverflow)) {
                overflowed = true;
                break;
            }
        }
        assert!(overflowed);
    }
}
