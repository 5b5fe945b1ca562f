//! Golden-JSON tests for Dosti (seed 004), built from the seed's own examples: the Socket.IO
//! connection parameters and events ("Real-Time Events Protocol", the Android and iOS
//! examples) and the REST pipeline's bodies ("Stateless HTTP REST API Pipeline").

use dgbot_protocol::dosti::*;
use serde_json::{Value, json};

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(golden: Value) -> T {
    let typed: T = serde_json::from_str(&golden.to_string()).expect("decodes");
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        golden,
        "re-encodes identically"
    );
    typed
}

#[test]
fn the_ios_examples_connect_params() {
    let q: ConnectQuery = round_trip(json!({
        "apiKey": "YOUR_PUBLIC_API_KEY", "role": "visitor", "visitorId": "ios_user_555", "visitorName": "iOS User"
    }));
    assert_eq!(q.visitor_id.as_deref(), Some("ios_user_555"));
    assert_eq!(q.visitor_name.as_deref(), Some("iOS User"));
}

#[test]
fn engine_io_parameters_beside_the_query_are_ignored() {
    let q: ConnectQuery = serde_json::from_value(json!({
        "apiKey": "dosti_pub_demo", "role": "visitor", "visitorId": "android_user_789",
        "EIO": "4", "transport": "polling", "t": "P1a2b3"
    }))
    .unwrap();
    assert_eq!(q.api_key.as_deref(), Some("dosti_pub_demo"));
    assert_eq!(q.visitor_name, None);
}

#[test]
fn the_seeds_client_events() {
    let send: SendMessage = round_trip(json!({ "type": "saas", "message": "text" }));
    assert_eq!(send.channel.as_deref(), Some(CHANNEL_SAAS));
    let android: SendMessage =
        round_trip(json!({ "type": "saas", "message": "Hello from Android Native App!" }));
    assert_eq!(android.message, "Hello from Android Native App!");
    let typing: TypingSignal = round_trip(json!({ "type": "saas" }));
    assert_eq!(typing.channel.as_deref(), Some("saas"));
    // `type` may be left out; `message` may not.
    let bare: SendMessage = serde_json::from_value(json!({ "message": "hi" })).unwrap();
    assert_eq!(bare.channel, None);
    assert!(serde_json::from_value::<SendMessage>(json!({ "type": "saas" })).is_err());
    assert!(
        serde_json::from_value::<SendMessage>(json!({ "type": "saas", "message": 5 })).is_err()
    );
}

#[test]
fn the_seeds_server_events() {
    let received: ReceiveMessage = round_trip(json!({
        "visitorId": "vis_...", "visitorName": "Support", "message": "text"
    }));
    let event = ServerEvent::ReceiveMessage(received);
    assert_eq!(event.name(), "receive_message");
    assert_eq!(
        event.payload(),
        json!({ "visitorId": "vis_...", "visitorName": "Support", "message": "text" })
    );

    let typing: PartnerTyping = round_trip(json!({ "deviceId": "agent" }));
    assert_eq!(typing, PartnerTyping::agent());
    assert_eq!(
        ServerEvent::PartnerTyping(typing.clone()).name(),
        "partner_typing"
    );
    let stopped = ServerEvent::PartnerStoppedTyping(typing);
    assert_eq!(stopped.name(), "partner_stopped_typing");
    assert_eq!(stopped.payload(), json!({ "deviceId": "agent" }));
}

#[test]
fn agent_joined_and_left_say_who() {
    let joined: AgentJoined = round_trip(json!({
        "deviceId": "agent", "agentId": "agent-alice", "agentName": "Alice"
    }));
    assert_eq!(ServerEvent::AgentJoined(joined).name(), "agent_joined");
    let left: AgentLeft = round_trip(json!({ "deviceId": "agent", "reason": "resolved" }));
    assert_eq!(ServerEvent::AgentLeft(left).name(), "agent_left");
    let _: AgentLeft = round_trip(json!({ "deviceId": "agent" }));
}

#[test]
fn the_seeds_send_request() {
    let req: SendRequest = round_trip(json!({
        "apiKey": "YOUR_PUBLIC_API_KEY",
        "visitorId": "android_user_789",
        "visitorName": "John Doe",
        "message": "Hello from my custom chat interface!"
    }));
    assert_eq!(req.visitor_name.as_deref(), Some("John Doe"));
    // The PHP example's body.
    let php: SendRequest = round_trip(json!({
        "apiKey": "YOUR_PUBLIC_API_KEY", "visitorId": "php_user_123",
        "visitorName": "PHP Client", "message": "Hello from PHP!"
    }));
    assert_eq!(php.message, "Hello from PHP!");
    let err = serde_json::from_value::<SendRequest>(json!({ "apiKey": "k", "visitorId": "v" }))
        .unwrap_err();
    assert!(err.to_string().contains("missing field `message`"), "{err}");
}

#[test]
fn the_seeds_poll_request() {
    let req: PollRequest = round_trip(json!({
        "apiKey": "YOUR_PUBLIC_API_KEY",
        "visitorId": "android_user_789",
        "lastTimestamp": 1781625600000u64
    }));
    assert_eq!(req.last_timestamp, Some(1_781_625_600_000));
    // A query string carries it as text; leaving it out (or empty) means everything.
    let text: PollRequest = serde_json::from_value(json!({
        "apiKey": "k", "visitorId": "v", "lastTimestamp": "1781625600000"
    }))
    .unwrap();
    assert_eq!(text.last_timestamp, Some(1_781_625_600_000));
    let none: PollRequest = round_trip(json!({ "apiKey": "k", "visitorId": "v" }));
    assert_eq!(none.last_timestamp, None);
    for bad in [json!("yesterday"), json!(1.5), json!(-1), json!({})] {
        let err = serde_json::from_value::<PollRequest>(
            json!({ "apiKey": "k", "visitorId": "v", "lastTimestamp": bad }),
        )
        .unwrap_err();
        assert!(err.to_string().contains("lastTimestamp"), "{bad}: {err}");
    }
}

#[test]
fn the_seeds_poll_response() {
    let res: PollResponse = round_trip(json!({
        "success": true,
        "messages": [
            {
                "id": "msg_a1b2c3d4",
                "sender": "visitor",
                "senderName": "You",
                "message": "Hello from my custom chat interface!",
                "timestamp": 1781625601000u64
            },
            {
                "id": "msg_e5f6g7h8",
                "sender": "agent",
                "senderName": "Support",
                "message": "Hi John! How can I help you today?",
                "timestamp": 1781625615000u64
            }
        ]
    }));
    assert_eq!(res.messages[0].sender, Sender::Visitor);
    assert_eq!(res.messages[1].sender, Sender::Agent);
    assert_eq!(res.messages[1].sender_name, "Support");
}

#[test]
fn failures_and_the_send_response() {
    let failure: Failure = round_trip(json!({
        "success": false, "error": "Unknown apiKey", "code": "unauthorized"
    }));
    assert_eq!(failure, Failure::new("unauthorized", "Unknown apiKey"));
    let limited: Failure = round_trip(json!({
        "success": false, "error": "Too many messages.", "code": "rate_limited", "retryAfter": 30
    }));
    assert_eq!(ServerEvent::Error(limited).name(), "chat_error");
    let sent: SendResponse = round_trip(json!({
        "success": true,
        "message": {
            "id": "msg_a1b2c3d4", "sender": "visitor", "senderName": "You",
            "message": "Hello from PHP!", "timestamp": 1781625601000u64
        }
    }));
    assert!(sent.success);
}
