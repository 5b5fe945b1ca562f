//! Issue 27, every answer is something the visitor can steer (the server's side): per-answer
//! feedback (`POST /messages/{message_id}/feedback`, one vote per answer, in history and the
//! agent's context, the `answer.feedback.submitted` webhook, the next step after "not
//! helpful"), "ask again" and "edit and resend" (`replaces`), starter prompts per language,
//! voice (`Permissions-Policy`, the launcher's look) and the `suggestions` part.

mod common;

use std::time::Duration;

use common::receiver::Receiver;
use dgbot_protocol::{Message, Part};
use dgbot_server::config::{DEMO_CHATBOT_ID, Settings, repo_config};
use dgbot_server::core::ConversationKey;
use dgbot_server::core::store::ConversationStore as _;
use dgbot_server::{Clock, ServerConfig};
use dgbot_testkit::{Api, HOST_ORIGIN, TestServer, Visitor};
use reqwest::Method;
use serde_json::{Value, json};

const NOW: &str = "2026-12-07T10:00:00Z";

/// A visitor with a known visitor id (so the test can read the store as them).
async fn visitor_as(s: &TestServer, visitor_id: &str) -> Visitor {
    let body = json!({ "chatbot_id": DEMO_CHATBOT_ID, "host_origin": HOST_ORIGIN, "visitor_id": visitor_id });
    let (status, answer) = s
        .api
        .call(
            Method::POST,
            "/auth/public",
            dgbot_testkit::api::As::Anonymous,
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    s.api.visitor_with(answer["token"].as_str().unwrap())
}

fn key(visitor_id: &str) -> ConversationKey {
    ConversationKey::new(DEMO_CHATBOT_ID, visitor_id)
}

/// Ask and return the stored answer (the `done` message).
async fn answer_to(v: &Visitor, question: &str) -> Message {
    let a = v.ask(question).await;
    assert_eq!(a.status, 200, "{:?}", a.events);
    a.message
        .unwrap_or_else(|| panic!("{question}: no done: {:?}", a.events))
}

/// `POST /messages/{id}/feedback` with `body`.
async fn vote(v: &Visitor, message_id: &str, body: Value) -> (u16, Value) {
    v.call(
        Method::POST,
        &format!("/messages/{message_id}/feedback"),
        Some(body),
    )
    .await
}

/// The visitor's history as messages.
async fn history(v: &Visitor) -> Vec<Message> {
    serde_json::from_value(v.history().await["messages"].clone()).unwrap()
}

/// Wait until the answer `id` is kept (it is stored once its stream is delivered).
async fn kept(s: &TestServer, visitor_id: &str, id: &str) {
    dgbot_testkit::eventually("the answer kept", || {
        s.store()
            .messages(&key(visitor_id))
            .unwrap()
            .iter()
            .any(|m| m.message_id == id)
            .then_some(())
    })
    .await;
}

fn types(m: &Message) -> Vec<&'static str> {
    m.parts.iter().map(Part::type_name).collect()
}

fn clocked() -> (TestServer, Clock) {
    let clock = Clock::manual_at(NOW);
    let c = clock.clone();
    let s = TestServer::builder()
        .configure(move |config: &mut ServerConfig| config.clock = c.clone())
        .start();
    (s, clock)
}

#[tokio::test]
async fn a_vote_is_kept_once_per_answer_and_a_second_replaces_it() {
    let (s, clock) = clocked();
    let v = visitor_as(&s, "visitor_votes_1").await;
    let answer = answer_to(&v, "What are your shipping times?").await;
    let id = answer.message_id.clone();
    kept(&s, "visitor_votes_1", &id).await;

    let (status, up) = vote(&v, &id, json!({ "value": "up" })).await;
    assert_eq!(status, 200, "{up}");
    assert_eq!(up["message_id"], id.as_str());
    assert_eq!(up["feedback"], json!({ "value": "up", "updated_at": NOW }));
    assert!(
        up.get("next").is_none(),
        "nothing to offer after an up vote: {up}"
    );

    clock.advance(Duration::from_secs(60));
    let (status, down) = vote(
        &v,
        &id,
        json!({ "value": "down", "reason": "incomplete", "comment": "  What about Iceland?  " }),
    )
    .await;
    assert_eq!(status, 200, "{down}");
    assert_eq!(
        down["feedback"],
        json!({ "value": "down", "reason": "incomplete", "comment": "What about Iceland?", "updated_at": "2026-12-07T10:01:00Z" })
    );
    // The first "not helpful": the next step, stored after the answer. The demo shop's livechat
    // is live, so it offers a person.
    let next: Message = serde_json::from_value(down["next"].clone()).unwrap();
    assert_eq!(types(&next), ["rich_text", "request_human_agent"], "{down}");
    assert!(
        next.plain_text().starts_with("Sorry that didn't help."),
        "{}",
        next.plain_text()
    );

    // Changing the reason offers nothing new.
    let (status, again) = vote(&v, &id, json!({ "value": "down", "reason": "incorrect" })).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["feedback"]["reason"], "incorrect");
    assert!(again["feedback"].get("comment").is_none(), "{again}");
    assert!(again.get("next").is_none(), "{again}");
    // Nor does down again after up.
    vote(&v, &id, json!({ "value": "up" })).await;
    let (_, third) = vote(&v, &id, json!({ "value": "down" })).await;
    assert!(third.get("next").is_none(), "{third}");

    // One row per answer, the latest vote.
    let votes = s.store().answer_feedback(&key("visitor_votes_1")).unwrap();
    assert_eq!(votes.len(), 1, "{votes:?}");
    assert_eq!(votes[&id].value, dgbot_protocol::api::FeedbackValue::Down);

    // History: the answer with its feedback, then the one next step.
    let messages = history(&v).await;
    let ids: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[1], id);
    assert_eq!(ids[2], next.message_id);
    let feedback = messages[1]
        .feedback
        .as_ref()
        .expect("the answer's feedback");
    assert_eq!(
        (feedback.value.as_str(), feedback.reason.as_deref()),
        ("down", None)
    );
    assert!(messages[0].feedback.is_none() && messages[2].feedback.is_none());
}

#[tokio::test]
async fn refused_votes_answer_in_the_envelope() {
    let s = TestServer::start();
    let v = visitor_as(&s, "visitor_refused_1").await;
    let other = visitor_as(&s, "visitor_refused_2").await;
    let answer = answer_to(&v, "Can I return a lamp?").await;
    let id = answer.message_id.clone();
    kept(&s, "visitor_refused_1", &id).await;
    let theirs = answer_to(&other, "Can I return a lamp?").await;
    kept(&s, "visitor_refused_2", &theirs.message_id).await;
    let question = history(&v).await[0].message_id.clone();

    let field_of = |body: &Value| {
        body["error"]["params"][0]["field"]
            .as_str()
            .map(str::to_owned)
    };
    // Not this visitor's: the same 404 whether it exists elsewhere or not.
    for unknown in ["msg_0000000000000000", theirs.message_id.as_str(), "%ff"] {
        let (status, body) = vote(&v, unknown, json!({ "value": "up" })).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{unknown}: {body}"
        );
        assert!(body["error"]["message"].is_string(), "{body}");
    }
    let (status, body) = vote(&v, &question, json!({ "value": "up" })).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("validation")),
        "{body}"
    );
    assert_eq!(field_of(&body).as_deref(), Some("message_id"), "{body}");

    let long = "x".repeat(1001);
    for (bad, field) in [
        (json!({ "value": "meh" }), None),
        (json!({}), None),
        (json!({ "value": "up", "stars": 5 }), None),
        (json!({ "value": "down", "reason": "rude" }), Some("reason")),
        (
            json!({ "value": "up", "reason": "incorrect" }),
            Some("reason"),
        ),
        (
            json!({ "value": "up", "comment": "great" }),
            Some("comment"),
        ),
        (json!({ "value": "down", "comment": long }), Some("comment")),
    ] {
        let (status, body) = vote(&v, &id, bad.clone()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("validation")),
            "{bad}: {body}"
        );
        if field.is_some() {
            assert_eq!(field_of(&body).as_deref(), field, "{bad}: {body}");
        }
    }
    assert!(
        s.store()
            .answer_feedback(&key("visitor_refused_1"))
            .unwrap()
            .is_empty()
    );
    // The longest comment is kept.
    let (status, body) = vote(
        &v,
        &id,
        json!({ "value": "down", "comment": "x".repeat(1000) }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // No token: the seed's 401.
    let (status, body) = s
        .api
        .call(
            Method::POST,
            &format!("/messages/{id}/feedback"),
            dgbot_testkit::api::As::Anonymous,
            Some(json!({ "value": "up" })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
}

#[tokio::test]
async fn without_livechat_not_helpful_offers_a_contact_form_in_the_answers_language() {
    let s = TestServer::start();
    let backend = s.api.backend();
    let (status, mut settings) = backend.call(Method::GET, "/livechat/settings", None).await;
    assert_eq!(status, 200, "{settings}");
    settings["enabled"] = json!(false);
    let (status, body) = backend
        .call(Method::PUT, "/livechat/settings", Some(settings))
        .await;
    assert_eq!(status, 200, "{body}");

    let v = visitor_as(&s, "visitor_form_1").await;
    let answer = answer_to(&v, "hvad koster fragt?").await;
    kept(&s, "visitor_form_1", &answer.message_id).await;
    let (status, down) = vote(
        &v,
        &answer.message_id,
        json!({ "value": "down", "reason": "not_what_i_asked" }),
    )
    .await;
    assert_eq!(status, 200, "{down}");
    let next: Message = serde_json::from_value(down["next"].clone()).unwrap();
    assert_eq!(types(&next), ["rich_text", "show_contact_form"], "{down}");
    assert!(
        next.plain_text().starts_with("Beklager"),
        "in Danish: {}",
        next.plain_text()
    );
    let Part::ShowContactForm(form) = &next.parts[1] else {
        unreachable!()
    };
    assert_eq!(form.fields[1].label, "E-mail");

    // The form is submitted like any other.
    let (status, body) = v
        .call(
            Method::POST,
            "/actions",
            Some(json!({ "part_id": form.part_id, "action": { "type": "contact_form", "fields": {
                "name": "Ada", "email": "ada@example.com", "message": "Hvad koster fragt til Island?" } } })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["action_id"].is_string(), "{body}");
}

#[tokio::test]
async fn the_agents_context_carries_each_answers_feedback() {
    let s = TestServer::start();
    let v = visitor_as(&s, "visitor_context_1").await;
    let answer = answer_to(&v, "When are you open on Saturday?").await;
    kept(&s, "visitor_context_1", &answer.message_id).await;
    let (status, _) = vote(
        &v,
        &answer.message_id,
        json!({ "value": "down", "reason": "incorrect", "comment": "You were closed" }),
    )
    .await;
    assert_eq!(status, 200);
    let session = v.handover().await;
    let agent = s.api.backend().agent_for(&session).await;
    let context = agent.context().await;
    let voted = context["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_id"] == answer.message_id.as_str())
        .expect("the answer in the transcript");
    assert_eq!(voted["feedback"]["value"], "down");
    assert_eq!(voted["feedback"]["reason"], "incorrect");
    assert_eq!(voted["feedback"]["comment"], "You were closed");
}

#[tokio::test]
async fn deleting_the_visitors_data_deletes_their_votes() {
    let s = TestServer::start();
    let v = visitor_as(&s, "visitor_delete_1").await;
    let answer = answer_to(&v, "Can I pay with MobilePay?").await;
    kept(&s, "visitor_delete_1", &answer.message_id).await;
    assert_eq!(
        vote(&v, &answer.message_id, json!({ "value": "up" }))
            .await
            .0,
        200
    );
    assert_eq!(
        s.store()
            .answer_feedback(&key("visitor_delete_1"))
            .unwrap()
            .len(),
        1
    );
    let (status, body) = v.call(Method::DELETE, "", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        s.store()
            .answer_feedback(&key("visitor_delete_1"))
            .unwrap()
            .is_empty()
    );
}

// ----- the webhook -----

const SECRET: &str = "whsec_answer_controls_0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vote_goes_out_signed_as_answer_feedback_submitted() {
    let s = TestServer::start();
    let mut receiver = Receiver::listen(SECRET, 0, 0).await;
    let (status, body) = s
        .api
        .backend()
        .call(
            Method::PUT,
            "/webhooks",
            Some(json!({
                "url": receiver.url(),
                "secret": SECRET,
                "events": ["answer.feedback.submitted"],
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["events"]
            .as_array()
            .unwrap()
            .contains(&json!("answer.feedback.submitted")),
        "{body}"
    );

    let v = visitor_as(&s, "visitor_hook_1").await;
    v.call(
        Method::POST,
        "/identify",
        Some(json!({ "user_id": "42", "name": "Ada" })),
    )
    .await;
    let question = "What are your shipping times?";
    let answer = answer_to(&v, question).await;
    kept(&s, "visitor_hook_1", &answer.message_id).await;
    let (status, _) = vote(
        &v,
        &answer.message_id,
        json!({ "value": "down", "reason": "incomplete", "comment": "And Iceland?" }),
    )
    .await;
    assert_eq!(status, 200);

    let d = receiver.next().await;
    assert_eq!(
        d["verified"], true,
        "the seed's verifyDialogeWebhook accepts it: {d}"
    );
    assert_eq!(d["headers"]["x-di-event"], "answer.feedback.submitted");
    let b = &d["body"];
    assert_eq!(b["type"], "answer.feedback.submitted");
    assert!(b["event_id"].as_str().unwrap().starts_with("evt_"), "{b}");
    assert_eq!(b["chatbot"]["id"], DEMO_CHATBOT_ID);
    assert_eq!(b["visitor"]["id"], "visitor_hook_1");
    assert_eq!(b["visitor"]["session_id"], "visitor_hook_1");
    assert_eq!(b["visitor"]["name"], "Ada");
    assert_eq!(b["message_id"], answer.message_id.as_str());
    assert_eq!(
        (
            &b["value"],
            &b["reason"],
            &b["comment"],
            &b["previous_value"]
        ),
        (
            &json!("down"),
            &json!("incomplete"),
            &json!("And Iceland?"),
            &Value::Null
        )
    );
    assert!(
        b["answer_text"]
            .as_str()
            .unwrap()
            .contains("2–4 business days"),
        "{b}"
    );
    assert_eq!(b["question_text"], question);
    assert!(b["question_message_id"].is_string(), "{b}");

    // A change is an event too.
    let (status, _) = vote(&v, &answer.message_id, json!({ "value": "up" })).await;
    assert_eq!(status, 200);
    let d = receiver.next().await;
    assert_eq!(d["verified"], true, "{d}");
    let b = &d["body"];
    assert_eq!(
        (&b["value"], &b["reason"], &b["previous_value"]),
        (&json!("up"), &Value::Null, &json!("down"))
    );
}

// ----- ask again, edit and resend -----

/// `POST /messages` with `text`, replacing `replaces`, with `Idempotency-Key: key`.
async fn resend(v: &Visitor, text: &str, replaces: &str, key: &str) -> dgbot_testkit::Answer {
    v.send(
        json!({ "message": { "parts": [{ "type": "text", "text": text }] }, "replaces": replaces }),
        Some(key),
    )
    .await
}

fn questions(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m.role == dgbot_protocol::Role::User)
        .map(Message::plain_text)
        .collect()
}

#[tokio::test]
async fn ask_again_and_edit_replace_the_last_answer_and_its_question() {
    let s = TestServer::start();
    let who = "visitor_again_1";
    let v = visitor_as(&s, who).await;
    let first = answer_to(&v, "What are your shipping times?").await;
    kept(&s, who, &first.message_id).await;
    let second = answer_to(&v, "Can I return a lamp?").await;
    kept(&s, who, &second.message_id).await;
    assert_eq!(
        vote(&v, &second.message_id, json!({ "value": "up" }))
            .await
            .0,
        200
    );

    // Ask again: the same question, a new answer in place of the old one.
    let again = resend(
        &v,
        "Can I return a lamp?",
        &second.message_id,
        "c_again_0001",
    )
    .await;
    assert_eq!(again.status, 200, "{:?}", again.events);
    let again = again.message.expect("a new answer");
    assert_ne!(again.message_id, second.message_id);
    assert!(
        again.plain_text().contains("30 days"),
        "the demo bot says the same"
    );
    kept(&s, who, &again.message_id).await;
    let messages = history(&v).await;
    assert_eq!(messages.len(), 4, "{:?}", questions(&messages));
    assert_eq!(
        questions(&messages),
        ["What are your shipping times?", "Can I return a lamp?"]
    );
    assert_eq!(
        messages[1].message_id, first.message_id,
        "the earlier pair stays"
    );
    assert_eq!(messages[3].message_id, again.message_id);
    // The replaced answer's vote went with it.
    assert!(s.store().answer_feedback(&key(who)).unwrap().is_empty());

    // A retry of the same request (same Idempotency-Key) is stored once: the replace happened,
    // the stored answer comes again.
    let retry = resend(
        &v,
        "Can I return a lamp?",
        &second.message_id,
        "c_again_0001",
    )
    .await;
    assert_eq!(retry.status, 200, "{:?}", retry.events);
    assert_eq!(retry.message.unwrap().message_id, again.message_id);
    assert_eq!(history(&v).await.len(), 4);

    // Edit and resend: a new question replaces the last one; its "not helpful" next step goes
    // too.
    let (_, down) = vote(&v, &again.message_id, json!({ "value": "down" })).await;
    assert!(down["next"].is_object(), "{down}");
    assert_eq!(history(&v).await.len(), 5);
    let edited = resend(
        &v,
        "Do you ship to the USA?",
        &again.message_id,
        "c_edit_00001",
    )
    .await;
    assert_eq!(edited.status, 200, "{:?}", edited.events);
    let edited = edited.message.unwrap();
    assert!(
        edited.plain_text().contains("do not ship to the USA"),
        "{}",
        edited.plain_text()
    );
    kept(&s, who, &edited.message_id).await;
    let messages = history(&v).await;
    assert_eq!(
        questions(&messages),
        ["What are your shipping times?", "Do you ship to the USA?"]
    );
    assert_eq!(messages.len(), 4);

    // Only the last answer: an earlier one, or a question, is a conflict; an unknown id is 404.
    for (i, (replaces, status)) in [
        (first.message_id.as_str(), 409),
        (messages[2].message_id.as_str(), 409),
        ("msg_0000000000000000", 404),
    ]
    .into_iter()
    .enumerate()
    {
        let refused = resend(&v, "Again?", replaces, &format!("c_refused_{i}")).await;
        assert_eq!(refused.status, status, "{replaces}");
    }
    assert_eq!(
        history(&v).await.len(),
        4,
        "nothing refused changed anything"
    );

    // Another visitor cannot name this one's answer.
    let other = visitor_as(&s, "visitor_again_2").await;
    assert_eq!(
        resend(&other, "Hi", &edited.message_id, "c_other_00001")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_refused_replace_answers_in_the_envelope() {
    let s = TestServer::start();
    let v = visitor_as(&s, "visitor_again_3").await;
    let first = answer_to(&v, "What are your shipping times?").await;
    kept(&s, "visitor_again_3", &first.message_id).await;
    let second = answer_to(&v, "Can I return a lamp?").await;
    kept(&s, "visitor_again_3", &second.message_id).await;
    for (replaces, status, code) in [
        (first.message_id.as_str(), 409, "conflict"),
        ("msg_0000000000000000", 404, "not_found"),
    ] {
        let res = s
            .api
            .http
            .post(s.api.chat_url("/messages"))
            .bearer_auth(&v.token)
            .json(&json!({ "message": { "parts": [{ "type": "text", "text": "Again" }] }, "replaces": replaces }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
    }
}

// ----- starter prompts, voice, suggestions -----

async fn config_in(s: &TestServer, v: &Visitor, accept_language: &str) -> Value {
    let res = s
        .api
        .http
        .get(s.api.chat_url("/config"))
        .bearer_auth(&v.token)
        .header("Accept-Language", accept_language)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn starter_prompts_come_in_the_visitors_language_and_the_demo_bot_answers_them() {
    let s = TestServer::start();
    let v = Api::new(&s.base).visitor().await;
    let prompts = |c: &Value| -> Vec<String> {
        serde_json::from_value(c["starter_prompts"].clone()).unwrap()
    };
    let en = config_in(&s, &v, "en-GB,en;q=0.9").await;
    let da = config_in(&s, &v, "da-DK,da;q=0.9").await;
    let de = config_in(&s, &v, "de").await;
    let fr = config_in(&s, &v, "fr-FR").await;
    assert_eq!(prompts(&en)[0], "How long does shipping take?");
    assert_eq!(prompts(&da)[0], "Hvad koster fragt?");
    assert_eq!(prompts(&de)[0], "Wie lange dauert die Lieferung?");
    assert_eq!(
        prompts(&fr),
        prompts(&en),
        "no French ones: the default language's"
    );
    assert_eq!(en["voice"], true);
    // Each is answered from the knowledge (a quoted section, or products), not "I don't know".
    for prompt in [prompts(&en), prompts(&da), prompts(&de)].concat() {
        let answer = answer_to(&v, &prompt).await;
        assert!(
            types(&answer).contains(&"sources"),
            "{prompt}: {:?} {}",
            types(&answer),
            answer.plain_text()
        );
    }
}

fn config_error(text: &str) -> String {
    Settings::parse(text, repo_config().parent().unwrap()).unwrap_err()
}

#[test]
fn starter_prompt_mistakes_name_the_field() {
    let shipped = std::fs::read_to_string(repo_config()).unwrap();
    let en = "en = [\"How long does shipping take?\", \"Can I return something I bought?\", \"Do you have a floor lamp?\"]";
    assert!(shipped.contains(en));
    for (text, field) in [
        (
            shipped.replace(en, "en = [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\"]"),
            "chatbot[0].starter_prompts.en: at most 6 prompts",
        ),
        (
            shipped.replace(en, "en = [\"Shipping?\", \" \"]"),
            "chatbot[0].starter_prompts.en[1]: 1 to 120 characters",
        ),
        (
            shipped.replace(en, &format!("en = [\"{}\"]", "x".repeat(121))),
            "chatbot[0].starter_prompts.en[0]: 1 to 120 characters",
        ),
        (
            shipped.replace(en, "English = [\"Shipping?\"]"),
            "chatbot[0].starter_prompts.English",
        ),
        (shipped.replace("voice = true", "voice = \"yes\""), "voice"),
    ] {
        let err = config_error(&text);
        assert!(err.contains(field), "{field}: {err}");
    }
    // A plain list is for every language.
    let start = shipped.find("[chatbot.starter_prompts]").unwrap();
    let end = start + shipped[start..].find("\n\n").unwrap();
    let plain = shipped[..start].replace(
        "voice = true",
        "voice = true\nstarter_prompts = [\"Shipping?\", \"Returns?\"]",
    ) + &shipped[end..];
    let settings = Settings::parse(&plain, repo_config().parent().unwrap()).unwrap();
    let bot = &settings.chatbots[0];
    assert_eq!(
        bot.starter_prompts.for_language("da", "en"),
        ["Shipping?", "Returns?"]
    );
}

#[tokio::test]
async fn voice_allows_the_microphone_only_for_a_chatbot_with_voice_on() {
    let policy = |s: &TestServer| {
        let url = s.url("/chat/index.html?chatbot_id=demo-shop");
        let http = s.api.http.clone();
        async move {
            let res = http.get(url).send().await.unwrap();
            res.headers()["permissions-policy"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    let look = |s: &TestServer| {
        let url = s.url("/launcher/demo-shop");
        let http = s.api.http.clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let on = TestServer::start();
    let p = policy(&on).await;
    assert!(
        p.contains("microphone=(self)") && p.contains("camera=()"),
        "{p}"
    );
    assert!(look(&on).await.contains("\"voice\":true"));

    let off = TestServer::builder()
        .chatbot(|c| c.config.voice = false)
        .start();
    let p = policy(&off).await;
    assert!(
        p.contains("microphone=()") && !p.contains("microphone=(self)"),
        "{p}"
    );
    assert!(!look(&off).await.contains("voice"));
    let v = Api::new(&off.base).visitor().await;
    assert!(
        config_in(&off, &v, "en").await.get("voice").is_none(),
        "off: not sent"
    );
}

#[tokio::test]
async fn a_grounded_answer_ends_with_follow_up_suggestions_that_are_not_its_words() {
    let s = TestServer::start();
    let v = visitor_as(&s, "visitor_suggest_1").await;
    let asked = v.ask("What are your shipping times?").await;
    let answer = asked.message.clone().unwrap();
    assert_eq!(types(&answer), ["rich_text", "sources", "suggestions"]);
    let Some(Part::Suggestions(next)) = answer.parts.last() else {
        unreachable!()
    };
    assert!((1..=3).contains(&next.suggestions.len()), "{next:?}");
    assert!(
        next.suggestions
            .contains(&"Shipping outside the EU".to_owned()),
        "{next:?}"
    );
    assert_eq!(next.part_id, format!("{}_part_3", answer.message_id));
    // On the wire: `{"type": "suggestions", "part_id", "suggestions": [...]}`, whole, after
    // the sources.
    let wire = asked
        .events
        .iter()
        .find(|(_, d)| d.contains("\"type\":\"suggestions\""))
        .expect("the suggestions part streamed");
    let part: Value = serde_json::from_str(&wire.1).unwrap();
    let part = part
        .get("part")
        .or_else(|| part["delta"].get("part"))
        .unwrap();
    assert_eq!(part["suggestions"][0], next.suggestions[0].as_str());
    // Not the answer's words.
    for s in &next.suggestions {
        assert!(
            !answer.plain_text().contains(s.as_str()),
            "{s}: {}",
            answer.plain_text()
        );
    }
    // Kept with the answer.
    kept(&s, "visitor_suggest_1", &answer.message_id).await;
    assert_eq!(
        types(&history(&v).await[1]),
        ["rich_text", "sources", "suggestions"]
    );
    // Nothing related: none.
    let hours = answer_to(&v, "When are you open on Saturday?").await;
    assert!(
        !types(&hours).contains(&"suggestions"),
        "{:?}",
        types(&hours)
    );
}
