//! Contexts created by joins: a join of an unknown id creates the context only within
//! the user's and the node's hourly budgets, joining an existing context never spends
//! them, and a node that requires created contexts never creates one.

mod common;

use std::time::Duration;

use clap::Parser;
use common::*;
use plenary_client::{ClientError, v1::ErrorCode};
use plenary_gateway::Config;

/// The refusal of a join; fails the test if it was accepted.
async fn join_refused(client: &plenary_client::Client, context: &str) -> ClientError {
    match client.join(context).await {
        Ok(ok) => panic!("expected the join of {context} to be refused, got {ok:?}"),
        Err(e) => e,
    }
}

fn message(e: &ClientError) -> &str {
    match e {
        ClientError::Server { message, .. } => message,
        _ => panic!("expected an error reply, got {e}"),
    }
}

#[tokio::test]
async fn a_user_creates_contexts_by_joining_only_within_their_budget() {
    let server = start(|c| c.implicit_contexts_per_user_per_hour = 2).await;
    let ann = connect(&server.ws_url, attendee_token("ann")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    for context in ["ann-1", "ann-2"] {
        assert_eq!(
            ann.join(context).await.unwrap().context.unwrap().name,
            context
        );
        ann.leave(context).await.unwrap();
    }

    let e = join_refused(&ann, "ann-3").await;
    assert_eq!(e.server_code(), Some(ErrorCode::RateLimited), "{e}");
    assert!(message(&e).contains("this user"), "{e}");
    // Two an hour: the next one in half an hour.
    let wait = e.retry_after().expect("a back-off hint");
    assert!(
        wait > Duration::from_secs(29 * 60) && wait <= Duration::from_secs(30 * 60),
        "{wait:?}"
    );

    // Another user has a budget of their own; contexts that exist stay open to all.
    bob.join("bob-1").await.unwrap();
    ann.join("bob-1").await.unwrap();
    ann.join("ann-1").await.unwrap();
    // The refused id was not created.
    let e = join_refused(&ann, "ann-3").await;
    assert_eq!(e.server_code(), Some(ErrorCode::RateLimited), "{e}");
    server.stop().await;
}

#[tokio::test]
async fn joining_an_existing_context_never_spends_the_budget() {
    let server = start(|c| c.implicit_contexts_per_user_per_hour = 1).await;
    let ann = connect(&server.ws_url, attendee_token("ann")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    ann.join("room").await.unwrap();
    for _ in 0..5 {
        bob.join("room").await.unwrap();
        bob.leave("room").await.unwrap();
    }
    // Bob's one creation of the hour is still there, and only one.
    bob.join("bob-room").await.unwrap();
    let e = join_refused(&bob, "bob-other").await;
    assert_eq!(e.server_code(), Some(ErrorCode::RateLimited), "{e}");
    server.stop().await;
}

#[tokio::test]
async fn the_node_bounds_what_all_users_create_together() {
    let server = start(|c| c.implicit_contexts_per_node_per_hour = 2).await;
    let ann = connect(&server.ws_url, attendee_token("ann")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    let cy = connect(&server.ws_url, attendee_token("cy")).await;
    ann.join("n-1").await.unwrap();
    bob.join("n-2").await.unwrap();
    let e = join_refused(&cy, "n-3").await;
    assert_eq!(e.server_code(), Some(ErrorCode::RateLimited), "{e}");
    assert!(message(&e).contains("this node"), "{e}");
    assert!(e.retry_after().unwrap() > Duration::from_secs(60));
    cy.join("n-1").await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_node_that_requires_created_contexts_answers_not_found_not_a_budget() {
    let server = start(|c| {
        c.require_created_contexts = true;
        c.implicit_contexts_per_user_per_hour = 1;
    })
    .await;
    let ann = connect(&server.ws_url, attendee_token("ann")).await;
    for i in 0..3 {
        let e = join_refused(&ann, &format!("nope-{i}")).await;
        assert_eq!(e.server_code(), Some(ErrorCode::NotFound), "{e}");
    }
    server.stop().await;
}

#[test]
fn budgets_of_zero_are_refused_at_start_up() {
    for flag in [
        "--implicit-contexts-per-user-per-hour",
        "--implicit-contexts-per-node-per-hour",
        "--context-passivate-secs",
    ] {
        let e = Config::parse_from(["plenary", flag, "0"])
            .validate_with(Some(SECRET.into()), None)
            .expect_err(flag);
        assert!(e.to_string().contains(flag), "{e}");
    }
}
