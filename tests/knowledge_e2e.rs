//! Issue 26 in Chromium: an answer grounded in the shop's help pages shows its sources under it,
//! as links (loaded with the rich-text chunk), and a link opens the help page on the section the
//! answer quotes. `DGBOT_SHOTS=<dir>` saves a screenshot of the answer.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use fantoccini::Locator;
use support::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_shows_its_sources_and_they_open_the_cited_section() {
    let h = Harness::start().await;
    h.open_chat().await;
    h.ask("Do you ship to the USA?").await;
    let answer = h.last_answer().await;
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("do not ship to the USA"),
        "{}",
        answer.text().await.unwrap()
    );
    let links = answer
        .find_all(Locator::Css("[data-part=sources] a[data-testid=source]"))
        .await
        .unwrap();
    assert!(!links.is_empty(), "no source links");
    let first = &links[0];
    let href = first.attr("href").await.unwrap().unwrap();
    assert_eq!(
        href,
        format!(
            "{}/demo/help/shipping#shipping-outside-the-eu",
            h.widget_base
        )
    );
    assert_eq!(
        first.attr("target").await.unwrap().as_deref(),
        Some("_blank")
    );
    assert_eq!(
        first.text().await.unwrap(),
        "Shipping and delivery › Shipping outside the EU"
    );
    if let Ok(dir) = std::env::var("DGBOT_SHOTS") {
        h.client.enter_parent_frame().await.unwrap();
        let png = h.client.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/sources.png"), png).unwrap();
        h.enter_chat().await;
    }

    // Outside what the shop's pages say: no sources, an honest answer and the offer of a person.
    h.ask("What is the capital of Peru?").await;
    let unknown = h.last_answer().await;
    assert!(unknown.text().await.unwrap().contains("don't know"));
    assert!(
        unknown
            .find_all(Locator::Css("[data-part=sources]"))
            .await
            .unwrap()
            .is_empty()
    );
    if let Ok(dir) = std::env::var("DGBOT_SHOTS") {
        h.client.enter_parent_frame().await.unwrap();
        let png = h.client.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/dont-know.png"), png).unwrap();
        h.enter_chat().await;
    }

    // The link opens the help page in a new tab, on the section the answer quotes.
    let before = h.client.windows().await.unwrap();
    first.click().await.unwrap();
    let opened = h
        .eventually("the help page's tab", || async {
            let now = h.client.windows().await.ok()?;
            now.into_iter().find(|w| !before.contains(w))
        })
        .await;
    h.client.switch_to_window(opened).await.unwrap();
    let target = h
        .eventually("the cited section", || async {
            let text = h
                .client
                .execute(
                    "const s = document.querySelector('h2:target'); return s ? s.textContent : null",
                    vec![],
                )
                .await
                .ok()?;
            text.as_str().map(str::to_owned)
        })
        .await;
    assert_eq!(target, "Shipping outside the EU");
    let page = h
        .client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("We do not ship to the USA"), "{page}");
    h.finish().await;
}
