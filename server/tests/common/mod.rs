//! What the server's tests share beyond the test kit (`dgbot_testkit`, which starts the
//! server and speaks the seeds' calls): the release binary, the load tests' questions, and the
//! cross-instance livechat round trip.

#![allow(dead_code)]

pub mod receiver;

use dgbot_testkit::Api;
#[allow(unused_imports)]
pub use dgbot_testkit::postgres;
#[allow(unused_imports)]
pub use dgbot_testkit::release::ReleaseServer;

/// The release server binary these tests were built with.
pub const BIN: &str = env!("CARGO_BIN_EXE_dgbot-server");

/// The questions the load benchmarks ask, in turn (FAQ answers, products, a table).
pub const QUESTIONS: &[&str] = &[
    "How long does shipping take?",
    "Which lamps do you recommend?",
    "Can I return a lamp?",
    "When are you open on Saturday?",
    "Compare your lamps",
    "Where is my order?",
];

/// A new visitor asks for a person on `visitor_base`; an agent takes the session on
/// `agent_base` (its queue shows the visitor) and sends `n` messages, each while the visitor's
/// long poll (`wait=10`) waits on `visitor_base`, which must return it. The time from each
/// send (the agent's request included) to the poll's answer. With two instances on one
/// database, this is the hub's cross-instance delivery.
pub async fn agent_to_visitor(
    visitor_base: &str,
    agent_base: &str,
    n: usize,
) -> Vec<std::time::Duration> {
    let (here, there) = (Api::new(visitor_base), Api::new(agent_base));
    let visitor = here.visitor().await;
    // The visitor's token works on the agent's instance too (one signing key).
    there.visitor_with(&visitor.token).history().await;
    let session = visitor.handover().await;
    let queue = there.backend().sessions("waiting").await;
    assert!(
        queue.to_string().contains(&session),
        "the queue shows the visitor: {queue}"
    );
    let agent = there.backend().agent_for(&session).await;

    let mut after: Option<String> = None;
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n {
        let poll = {
            let (visitor, after) = (visitor.clone(), after.clone());
            tokio::spawn(async move {
                let polled = visitor.livechat_messages(after.as_deref(), 10).await;
                (polled, std::time::Instant::now())
            })
        };
        // Let the poll reach its instance and wait there.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let text = format!("Hello from the other instance, {i}");
        let sent = std::time::Instant::now();
        let (status, reply) = agent.say("agent-alice", &text).await;
        assert_eq!(status, 200, "{reply}");
        let (polled, got) = poll.await.unwrap();
        let last = polled["messages"]
            .as_array()
            .and_then(|m| m.last())
            .unwrap_or_else(|| panic!("the agent's message reached the visitor: {polled}"));
        assert_eq!(last["parts"][0]["text"], text, "{polled}");
        after = Some(last["message_id"].as_str().unwrap().to_owned());
        latencies.push(got.saturating_duration_since(sent));
    }
    let state = visitor.livechat_state().await;
    assert_eq!(state["status"], "active", "{state}");
    latencies
}
