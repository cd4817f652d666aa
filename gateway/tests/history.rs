//! Chat history through real sockets: a context keeps a bounded window of messages in
//! memory, and `history` pages back from it into the event log — embedded (SQLite),
//! after a restart, and in cluster mode from a node that does not own the context.

mod common;

use common::*;
use futures_util::future::join_all;
use plenary_client::{
    Client,
    v1::{ChatMessage, ErrorCode, SendMessage},
};

/// More than twice the window the context keeps (1,000 to 2,000 per area): the oldest
/// messages have left memory.
const MESSAGES: usize = 2_300;

/// Posts `range` as `who` (ids in order), 50 at a time.
async fn post(
    who: &Client,
    context: &str,
    range: std::ops::Range<usize>,
    backchannel: bool,
) -> Vec<u64> {
    let mut ids = Vec::new();
    let all: Vec<usize> = range.collect();
    for chunk in all.chunks(50) {
        let sends = chunk.iter().map(|i| {
            who.send_message(SendMessage {
                context_id: context.into(),
                text: format!("m{i}"),
                client_msg_id: format!("c{i}"),
                reply_to: 0,
                backchannel,
                thread_id: 0,
            })
        });
        for sent in join_all(sends).await {
            ids.push(sent.expect("a post").message_id);
        }
    }
    ids.sort_unstable();
    ids
}

/// Every page of `context`'s history from the newest back, oldest first overall.
async fn page_back(who: &Client, context: &str, limit: u32, backchannel: bool) -> Vec<ChatMessage> {
    let (mut all, mut before) = (Vec::new(), 0);
    loop {
        let page = who
            .history(context, before, limit, backchannel)
            .await
            .expect("a page");
        assert!(page.messages.len() <= limit as usize);
        let more = page.has_more;
        before = page.messages.first().map_or(0, |m| m.id);
        all.splice(0..0, page.messages);
        if !more {
            return all;
        }
        assert_ne!(before, 0, "more, but an empty page");
    }
}

/// The ids and like counts of a paged history.
fn ids_and_likes(messages: &[ChatMessage]) -> Vec<(u64, u32)> {
    messages.iter().map(|m| (m.id, m.like_count)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_reaches_the_first_message_past_the_window_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let raise = |c: &mut plenary_gateway::config::Config| {
        c.user_rate = 100_000;
        c.user_burst = 100_000;
    };
    let server = start_in(dir.path(), raise).await;
    let ctx = "history-webinar";
    let attendee = connect(&server.ws_url, attendee_token("ann")).await;
    let moderator = connect(&server.ws_url, moderator_token("mo", ctx)).await;
    attendee.join(ctx).await.unwrap();
    moderator.join(ctx).await.unwrap();

    let mut ids = post(&attendee, ctx, 0..20, false).await;
    let back = post(&moderator, ctx, 0..30, true).await;
    // Early messages liked and deleted while still in the window.
    let (liked, deleted) = (ids[5], ids[6]);
    moderator.like(ctx, liked).await.unwrap();
    attendee.delete(ctx, deleted).await.unwrap();
    ids.extend(post(&attendee, ctx, 20..MESSAGES, false).await);
    let expected: Vec<(u64, u32)> = ids
        .iter()
        .filter(|id| **id != deleted)
        .map(|id| (*id, u32::from(*id == liked)))
        .collect();

    let all = page_back(&attendee, ctx, 100, false).await;
    assert_eq!(
        ids_and_likes(&all),
        expected,
        "every message once, in order, as it ended"
    );
    assert_eq!(all[0].text, "m0");
    assert_eq!(all[0].author.as_ref().unwrap().user_id, "ann");
    let first = attendee.history(ctx, ids[3], 2, false).await.unwrap();
    assert_eq!(
        first.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[1], ids[2]]
    );
    assert!(first.has_more);
    let mine = moderator.history(ctx, liked + 1, 1, false).await.unwrap();
    assert_eq!(mine.liked_by_me, [liked]);

    // Archived messages are read-only, with their own error code.
    assert_eq!(
        refused(attendee.like(ctx, ids[0])).await,
        ErrorCode::Archived
    );
    assert_eq!(
        refused(moderator.delete(ctx, ids[0])).await,
        ErrorCode::Archived
    );
    // The backchannel: its moderators only; a context not joined: refused.
    let backchannel = page_back(&moderator, ctx, 7, true).await;
    assert_eq!(backchannel.iter().map(|m| m.id).collect::<Vec<_>>(), back);
    assert_eq!(
        refused(attendee.history(ctx, 0, 10, true)).await,
        ErrorCode::Forbidden
    );
    assert_eq!(
        refused(attendee.history("elsewhere", 0, 10, false)).await,
        ErrorCode::NotJoined
    );

    // Restarted on the same data: rebuilt from the snapshot and the log, the same.
    drop((attendee, moderator));
    server.stop().await;
    let server = start_in(dir.path(), raise).await;
    let attendee = connect(&server.ws_url, attendee_token("ann")).await;
    attendee.join(ctx).await.unwrap();
    let again = page_back(&attendee, ctx, 100, false).await;
    assert_eq!(ids_and_likes(&again), expected, "after a restart");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_cluster_mode_a_node_that_does_not_own_the_context_pages_into_redis() {
    use common::cluster::*;
    require_redis().await;
    let prefix = unique_prefix("history");
    let raise = |c: &mut plenary_gateway::config::Config| {
        c.user_rate = 100_000;
        c.user_burst = 100_000;
    };
    let nodes = [
        start_node(&prefix, "n1", raise).await,
        start_node(&prefix, "n2", raise).await,
        start_node(&prefix, "n3", raise).await,
    ];
    settle(
        &prefix,
        &[&nodes[0].ws_url, &nodes[1].ws_url, &nodes[2].ws_url],
    )
    .await;
    let owner = owner_of(&prefix, CTX).await;
    let other = nodes
        .iter()
        .zip(["n1", "n2", "n3"])
        .find(|(_, id)| *id != owner)
        .map(|(n, _)| n)
        .unwrap();
    let poster = connect(&other.ws_url, attendee_token("pat")).await;
    poster.join(CTX).await.unwrap();
    let ids = post(&poster, CTX, 0..2_100, false).await;
    let all = page_back(&poster, CTX, 100, false).await;
    assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert_eq!(refused(poster.like(CTX, ids[0])).await, ErrorCode::Archived);
    for n in nodes {
        n.stop().await;
    }
    redis_cleanup(&prefix).await;
}

#[test]
fn a_snapshot_larger_than_the_live_window_is_refused_at_start_up() {
    use clap::Parser;
    let e = plenary_gateway::config::Config::parse_from(["plenary", "--snapshot-messages", "1001"])
        .validate_with(Some(SECRET.into()), None)
        .expect_err("over the window");
    assert!(e.to_string().contains("--snapshot-messages"), "{e}");
}

#[tokio::test]
async fn a_thread_pages_for_its_attendee_and_the_moderators_only() {
    let server = start(|_| {}).await;
    let ctx = "thread-history";
    let ann = connect(&server.ws_url, attendee_token("ann")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    let mo = connect(&server.ws_url, moderator_token("mo", ctx)).await;
    for c in [&ann, &bob, &mo] {
        c.join(ctx).await.unwrap();
    }
    let asked = ann.ask(ctx, "Slides?", "q-1", 0).await.unwrap();
    mo.answer(ctx, asked.thread_id, "After the talk.", "a-1")
        .await
        .unwrap();
    let page = ann
        .thread_history(ctx, asked.thread_id, 0, 10)
        .await
        .unwrap();
    let texts: Vec<&str> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["Slides?", "After the talk."]);
    assert!(page.messages[1].author.as_ref().unwrap().as_context);
    let seen_by_moderator = mo
        .thread_history(ctx, asked.thread_id, 0, 10)
        .await
        .unwrap();
    assert_eq!(
        seen_by_moderator.messages[1]
            .author
            .as_ref()
            .unwrap()
            .user_id,
        "mo"
    );
    assert_eq!(
        refused(bob.thread_history(ctx, asked.thread_id, 0, 10)).await,
        ErrorCode::Forbidden
    );
    assert_eq!(
        refused(mo.thread_history(ctx, 999_999, 0, 10)).await,
        ErrorCode::NotFound
    );
    server.stop().await;
}
