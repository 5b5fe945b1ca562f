//! Issue 26, the assistant knows the site: the demo shop's FAQ files and catalogue as sources,
//! grounded answers that cite the section they quote, curated answers, an honest "I don't know"
//! in the visitor's language (kept for the site owner), and the sources API over a real site
//! served on loopback (sitemap, robots.txt, a page that changes, a PDF, Danish and German
//! pages).

use dgbot_protocol::Part;
use dgbot_protocol::message::{Message, Source};
use dgbot_testkit::TestServer;
use dgbot_testkit::api::Api;

fn sources(m: &Option<Message>) -> Vec<Source> {
    m.iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::Sources(s) => Some(s.sources.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn types(m: &Option<Message>) -> Vec<&'static str> {
    m.iter()
        .flat_map(|m| &m.parts)
        .map(Part::type_name)
        .collect()
}

#[tokio::test]
async fn the_demo_shop_answers_from_its_pages_and_cites_them() {
    let server = TestServer::start();
    let visitor = Api::new(&server.base).visitor().await;

    let usa = visitor.ask("Do you ship to the USA?").await;
    assert!(
        usa.text().contains("do not ship to the USA"),
        "{}",
        usa.text()
    );
    let cited = sources(&usa.message);
    assert_eq!(
        cited[0].url,
        server.url("/demo/help/shipping#shipping-outside-the-eu"),
        "{cited:?}"
    );
    assert_eq!(*types(&usa.message).last().unwrap(), "sources");

    let warranty = visitor
        .ask("What is the warranty on the Aurora lamp?")
        .await;
    assert!(
        warranty.text().contains("2-year warranty"),
        "{}",
        warranty.text()
    );
    assert!(
        sources(&warranty.message)[0]
            .url
            .ends_with("/demo/help/returns#warranty")
    );

    let danish = visitor.ask("hvad koster fragt?").await;
    assert!(danish.text().contains("49 kr"), "{}", danish.text());
    assert!(
        sources(&danish.message)[0]
            .url
            .ends_with("/demo/help/fragt"),
        "{:?}",
        sources(&danish.message)
    );

    let times = visitor.ask("What are your shipping times?").await;
    assert!(
        times.text().contains("2–4 business days"),
        "{}",
        times.text()
    );
}

#[tokio::test]
async fn out_of_scope_questions_get_an_honest_answer_and_are_kept() {
    let server = TestServer::start();
    let visitor = Api::new(&server.base).visitor().await;
    for (q, words) in [
        ("What is the capital of Peru?", "don't know"),
        (
            "Hvem vandt fodboldkampen i går aftes?",
            "ved jeg desværre ikke",
        ),
        (
            "Wer hat gestern das Fußballspiel gewonnen?",
            "weiß ich leider nicht",
        ),
    ] {
        let a = visitor.ask(q).await;
        assert!(a.text().contains(words), "{q}: {}", a.text());
        assert!(sources(&a.message).is_empty(), "{q}");
        // The demo shop's livechat is live: the offer is a person.
        assert_eq!(
            types(&a.message),
            ["rich_text", "request_human_agent"],
            "{q}: {}",
            a.text()
        );
    }
    let kept = server.core().unanswered("demo-shop", 10).unwrap();
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[2].question, "What is the capital of Peru?");
    assert_eq!(kept[0].lang, "de");
}
