//! Issue 14 ("Trust"), item 6, in the browser: the hostile corpus of `tests/hostile/` reaches
//! every part renderer of the widget (rich text spans and links, images, tables, product cards,
//! contact-form and support-ticket labels, the other markers, files, unknown parts), the
//! chatbot's own texts (name, welcome, popups, avatar, colours), and a person's messages, name,
//! file names and closing words in livechat, streamed and then again from history.
//!
//! A trap is set first, in the host page and in the chat frame: `window.__pwned` has a setter
//! that records every write, uncaught errors (a payload that reached `parent.__pwned` across
//! origins throws) and CSP violations are recorded, and `alert` records instead of showing.
//! Afterwards no trap has fired in either frame, every hostile text reads literally on screen,
//! no element carries an event-handler attribute or an unsafe URL, and the links whose URLs are
//! unsafe are clicked and do nothing: they have no `href` (or a safe one).

#![cfg(not(target_arch = "wasm32"))]

mod support;

use dgbot_server::core::store::{ConversationStore as _, LivechatStore as _};
use std::time::Duration;

use dgbot_protocol::message::{
    AttachmentRules, Block, ContactFormMarker, CustomMarker, FieldKind, FilePart, FormField,
    HumanAgentMarker, ImageConstraints, ImagePart, ImageUploadMarker, ListItem, Product,
    ProductsPart, RichText, Span, SupportTicketMarker, TableCell, TablePart,
};
use dgbot_protocol::stream::{DoneEvent, PartEvent, part_deltas};
use dgbot_protocol::{Message, Part, Role, StreamEvent};
use dgbot_server::ScriptedEvent;
use dgbot_server::ScriptedReply;
use dgbot_server::core::ConversationKey;
use fantoccini::Locator;
use serde_json::{Value, json};
use support::Harness;

/// The loader keeps the visitor id in the host page's storage under this key.
const HOST_KEY: &str = "dgbot_demo-shop";
const TRIGGER: &str = "show me the hostile corpus";

fn corpus() -> Value {
    serde_json::from_str(include_str!("hostile/corpus.json")).expect("the corpus is JSON")
}

fn strings(list: &str) -> Vec<String> {
    corpus()[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The trap, for a page and the chat frame alike (see the module doc). Idempotent; notes a
/// `__pwned` that was set before it.
const TRAP: &str = r#"
(function () {
  if (window.__trap) return;
  var fired = [];
  if ('__pwned' in window) fired.push('before the trap: ' + String(window.__pwned));
  Object.defineProperty(window, '__trap', { value: fired });
  Object.defineProperty(window, '__pwned', {
    configurable: false,
    get: function () { return undefined; },
    set: function (v) { fired.push('__pwned = ' + String(v)); }
  });
  window.alert = window.confirm = window.prompt = function (m) { fired.push('dialog: ' + m); };
  window.addEventListener('error', function (e) {
    if (e instanceof ErrorEvent) fired.push('uncaught: ' + e.message);
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    fired.push('CSP ' + e.violatedDirective + ': ' + e.blockedURI + ' ' + (e.sample || ''));
  });
})();
"#;

/// Everything the trap recorded in the current frame.
async fn trapped(h: &Harness) -> Value {
    h.js(
        "return window.__trap ? window.__trap.slice() : ['no trap set'];",
        vec![],
    )
    .await
}

/// Assert that no trap fired in the chat frame nor in the host page (entered from the chat
/// frame; back in the chat frame afterwards).
async fn no_trap_fired(h: &Harness, when: &str) {
    let chat = trapped(h).await;
    h.client.enter_parent_frame().await.unwrap();
    let host = trapped(h).await;
    h.enter_chat().await;
    assert_eq!(chat, json!([]), "{when}: a trap fired in the chat frame");
    assert_eq!(host, json!([]), "{when}: a trap fired in the host page");
}

/// What the DOM of the chat frame must never hold, whatever the server sent: event-handler
/// attributes, scripts outside the page's own head, frames, objects, `<base>`, refreshes,
/// links to anything but http(s), mailto and tel, pictures from anything but http(s), blob
/// and base64 raster `data:`. Returns the offenders' outer HTML (cut short).
async fn dom_offenders(h: &Harness) -> Value {
    h.js(
        r#"
        var bad = [];
        var all = document.querySelectorAll('*');
        for (var i = 0; i < all.length; i++) {
          var el = all[i], tag = el.tagName.toLowerCase();
          for (var j = 0; j < el.attributes.length; j++) {
            var a = el.attributes[j].name.toLowerCase();
            if (a.indexOf('on') === 0 || a === 'srcdoc' || a === 'formaction' || a === 'xlink:href')
              bad.push(el.outerHTML.slice(0, 200));
          }
          if (['iframe', 'frame', 'object', 'embed', 'base', 'applet', 'math'].indexOf(tag) >= 0)
            bad.push(el.outerHTML.slice(0, 200));
          if (tag === 'meta' && el.hasAttribute('http-equiv')) bad.push(el.outerHTML.slice(0, 200));
          if (tag === 'script' && el.closest('body') && !el.src) bad.push(el.outerHTML.slice(0, 200));
          if (tag === 'svg' && el.querySelector('script, foreignObject, a')) bad.push(el.outerHTML.slice(0, 200));
          if (tag === 'a' && el.hasAttribute('href') && !/^(https?:|mailto:|tel:)/i.test(el.getAttribute('href')))
            bad.push(el.outerHTML.slice(0, 200));
          if (tag === 'img' && el.hasAttribute('src') &&
              !/^(https?:|blob:|data:image\/(png|jpeg|webp|gif);base64,)/i.test(el.getAttribute('src')))
            bad.push(el.outerHTML.slice(0, 200));
          if (tag === 'form' && el.hasAttribute('action')) bad.push(el.outerHTML.slice(0, 200));
        }
        return bad;
        "#,
        vec![],
    )
    .await
}

/// Text as a reader compares it: white space runs as one space, NUL dropped (the DOM keeps it
/// in text nodes, but `innerText` may not).
fn squash(s: &str) -> String {
    s.replace('\0', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every one of `texts` must be in the text of the elements `css` selects as written
/// (`textContent`) and as shown (`innerText`, white space squashed), within 20 seconds.
/// Messages off screen skip rendering (`content-visibility: auto`) and have no `innerText`:
/// they are rendered for the reading.
async fn reads_literally(h: &Harness, css: &str, texts: &[String]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let v = h
            .js(
                "document.querySelectorAll('.msg').forEach(function (m) { m.style.contentVisibility = 'visible'; }); \
                 var c = '', s = ''; document.querySelectorAll(arguments[0]).forEach(function (e) { \
                 c += e.textContent + '\\n'; s += e.innerText + '\\n'; }); return [c, s];",
                vec![json!(css)],
            )
            .await;
        let (content, shown) = (v[0].as_str().unwrap(), squash(v[1].as_str().unwrap()));
        let missing: Vec<&String> = texts
            .iter()
            .filter(|t| !content.contains(t.as_str()) || !shown.contains(&squash(t)))
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{css}: not shown as written: {missing:?} in {:?}",
            &shown[..shown.len().min(2000)]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn link(text: &str, url: &str) -> Span {
    Span::link(text, url)
}

/// An assistant answer with the corpus in every part type.
fn hostile_answer(message_id: &str) -> Message {
    let texts = strings("text");
    let urls = strings("unsafe_urls");
    let id = |n: u32| format!("{message_id}_part_{n}");
    let mut blocks: Vec<Block> = texts
        .iter()
        .map(|t| Block::paragraph(vec![Span::text(t.clone())]))
        .collect();
    blocks.push(Block::paragraph(vec![
        Span::bold(texts[0].clone()),
        Span::strike(texts[1].clone()),
    ]));
    blocks.push(Block::paragraph(
        urls.iter()
            .enumerate()
            .map(|(i, u)| link(&format!("unsafe link {i}"), u))
            .collect(),
    ));
    blocks.push(Block::BulletList {
        items: texts
            .iter()
            .map(|t| ListItem {
                spans: vec![link(t, "javascript:window.__pwned='list-link'")],
            })
            .collect(),
    });
    let cell = |t: &str| TableCell::text(t);
    let mut parts = vec![
        Part::RichText(RichText {
            part_id: id(1),
            blocks,
        }),
        Part::Table(TablePart {
            part_id: id(2),
            caption: Some(texts[2].clone()),
            columns: texts[..3].iter().map(|t| cell(t)).collect(),
            rows: texts
                .chunks(3)
                .map(|row| row.iter().map(|t| cell(t)).collect())
                .chain(std::iter::once(
                    urls.iter()
                        .take(3)
                        .enumerate()
                        .map(|(i, u)| TableCell {
                            blocks: vec![Block::paragraph(vec![link(
                                &format!("unsafe cell link {i}"),
                                u,
                            )])],
                        })
                        .collect(),
                ))
                .collect(),
        }),
        Part::Products(ProductsPart {
            part_id: id(3),
            products: urls
                .iter()
                .enumerate()
                .map(|(i, u)| Product {
                    product_id: Some(texts[i % texts.len()].clone()),
                    title: texts[i % texts.len()].clone(),
                    url: u.clone(),
                    image_url: Some(u.clone()),
                    description: Some(texts[(i + 1) % texts.len()].clone()),
                    price: Some(1.5),
                    currency: Some("<b>".into()),
                })
                .collect(),
        }),
        Part::ShowContactForm(ContactFormMarker {
            part_id: id(4),
            fields: texts
                .iter()
                .enumerate()
                .map(|(i, t)| FormField {
                    key: t.clone(),
                    label: t.clone(),
                    kind: [
                        FieldKind::Text,
                        FieldKind::Email,
                        FieldKind::Tel,
                        FieldKind::Textarea,
                    ][i % 4],
                    required: i % 2 == 0,
                })
                .collect(),
        }),
        Part::ShowSupportTicket(SupportTicketMarker {
            part_id: id(5),
            fields: texts[..5]
                .iter()
                .map(|t| FormField {
                    key: format!("k{t}"),
                    label: t.clone(),
                    kind: FieldKind::Unknown,
                    required: true,
                })
                .collect(),
            attachments: AttachmentRules {
                max_files: 3,
                max_size_bytes: 1000,
                accepted_types: vec!["image/svg+xml".into(), "text/html".into(), texts[0].clone()],
            },
        }),
        Part::RequestImageUpload(ImageUploadMarker {
            part_id: id(6),
            prompt: Some(texts[3].clone()),
            constraints: ImageConstraints {
                max_size_bytes: 1000,
                accepted_types: vec!["image/svg+xml".into(), texts[1].clone()],
            },
        }),
        Part::RequestHumanAgent(HumanAgentMarker {
            part_id: id(7),
            reason: Some(texts[4].clone()),
        }),
        Part::Custom(CustomMarker {
            part_id: id(8),
            key: texts[0].clone(),
            payload: Some(json!({ "html": texts[1], "url": urls[0] })),
        }),
        Part::File(FilePart {
            filename: Some(texts[5].clone()),
            url: Some(urls[0].clone()),
            ..Default::default()
        }),
    ];
    // Images: every unsafe source, SVG as data, SVG bytes that claim to be a PNG, base64 that
    // breaks out of its attribute.
    let svg = base64_of(include_bytes!("hostile/uploads/evil.svg"));
    for (i, u) in urls.iter().enumerate() {
        parts.push(Part::Image(ImagePart {
            part_id: Some(format!("{}_img{i}", id(9))),
            url: Some(u.clone()),
            alt: Some(texts[i % texts.len()].clone()),
            caption: Some(texts[(i + 2) % texts.len()].clone()),
            ..Default::default()
        }));
    }
    for (n, (data, mime)) in [
        (svg.clone(), "image/svg+xml"),
        (svg, "image/png"),
        (
            format!("{}\" onerror=\"window.__pwned='b64'", base64_of(b"x")),
            "image/png",
        ),
        (base64_of(b"<script>"), "text/html"),
    ]
    .into_iter()
    .enumerate()
    {
        parts.push(Part::Image(ImagePart {
            part_id: Some(format!("{}_data{n}", id(9))),
            data: Some(data),
            mime: Some(mime.into()),
            alt: Some(texts[n].clone()),
            ..Default::default()
        }));
    }
    Message {
        message_id: message_id.into(),
        role: Role::Assistant,
        parts,
        created_at: None,
        author: None,
        feedback: None,
    }
}

fn base64_of(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The answer as the server streams one: deltas where a part has them, whole parts where not,
/// an unknown part type with markup for a name, and `done` with the message.
fn stream_of(message: &Message) -> Vec<ScriptedEvent> {
    let sse = |ev: StreamEvent| ScriptedEvent::Sse(ev.name().to_owned(), ev.data());
    let mut events = vec![sse(StreamEvent::status("connected"))];
    for part in &message.parts {
        match part_deltas(part) {
            Some(deltas) => events.extend(
                deltas
                    .into_iter()
                    .map(|d| sse(StreamEvent::delta(part.part_id().unwrap_or_default(), d))),
            ),
            None => events.push(sse(StreamEvent::Part(PartEvent { part: part.clone() }))),
        }
    }
    let unknown = json!({ "type": "<img src=x onerror=window.__pwned='type'>", "part_id": "x" });
    events.push(ScriptedEvent::Sse(
        "part".into(),
        json!({ "part": unknown }).to_string(),
    ));
    let mut done = serde_json::to_value(DoneEvent {
        message: message.clone(),
    })
    .unwrap();
    done["message"]["parts"]
        .as_array_mut()
        .unwrap()
        .push(unknown);
    events.push(ScriptedEvent::Sse("done".into(), done.to_string()));
    events
}

/// Open the demo page with the trap set in it before any of its scripts, open the chat, and
/// set the trap in the chat frame too.
async fn open_trapped(h: &Harness) {
    h.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": TRAP }),
    )
    .await;
    h.goto("/demo/").await;
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.wait_css(support::pages::widget::COMPOSER).await;
    h.js(TRAP, vec![]).await;
}

/// Click every element in `css` the way a visitor would (WebDriver's pointer, not a script);
/// an element that cannot be clicked (hidden, covered) is clicked by script instead.
async fn click_all(h: &Harness, css: &str) -> usize {
    let all = h.client.find_all(Locator::Css(css)).await.unwrap();
    for el in &all {
        let _ = h
            .js(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![serde_json::to_value(el).unwrap()],
            )
            .await;
        if el.click().await.is_err() {
            h.press(el).await;
        }
    }
    all.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_corpus_in_every_part_runs_no_script_and_reads_as_text() {
    let texts = strings("text");
    let answer = hostile_answer("msg_hostile");
    let events = stream_of(&answer);
    let (hostile_name, hostile_welcome) = (texts[1].clone(), texts[0].clone());
    let popup = texts[3].clone();
    let (name, welcome) = (hostile_name.clone(), hostile_welcome.clone());
    let h = Harness::start_custom(
        |config| {
            config.scripted_replies = vec![ScriptedReply {
                trigger: TRIGGER.into(),
                events,
            }]
        },
        move |bot| {
            bot.config.name = name;
            bot.config.welcome_message = welcome;
            bot.config.popup_messages = vec![popup];
            bot.config.avatar = Some("javascript:window.__pwned='avatar'".into());
            bot.config.theme.primary_color = "red;background:url(javascript:top.__pwned=1)".into();
        },
    )
    .await;
    open_trapped(&h).await;
    h.client.enter_parent_frame().await.unwrap();
    h.js(
        "window.__custom = []; addEventListener('chat_custom', function (e) { __custom.push(e.detail); });",
        vec![],
    )
    .await;
    h.enter_chat().await;

    // The chatbot's own texts: name and welcome as text, no avatar from a javascript: URL.
    reads_literally(
        &h,
        support::pages::widget::WELCOME,
        std::slice::from_ref(&hostile_welcome),
    )
    .await;
    reads_literally(
        &h,
        "[data-testid=bot-name]",
        std::slice::from_ref(&hostile_name),
    )
    .await;

    // The answer, streamed.
    h.ask(TRIGGER).await;
    h.finished_answer().await;
    let answer_css = "[data-testid=message][data-role=assistant]:not(.welcome)";
    reads_literally(&h, answer_css, &texts).await;
    assert_eq!(dom_offenders(&h).await, json!([]), "the streamed answer");
    assert!(
        h.count(&format!("{answer_css} [data-part=image] img"))
            .await
            <= 1,
        "only the base64 PNG may show as a picture"
    );
    assert!(
        h.count(&format!("{answer_css} [data-part=unknown]")).await >= 1,
        "the unknown part shows its placeholder"
    );
    // Form labels and marker texts are text too.
    reads_literally(
        &h,
        &format!("{answer_css} [data-part=show_contact_form]"),
        &texts,
    )
    .await;
    reads_literally(
        &h,
        &format!("{answer_css} [data-part=show_support_ticket]"),
        &texts[..5],
    )
    .await;

    // Links with unsafe URLs are no links: clicked, they do nothing.
    let unsafe_links = h
        .js(
            "return Array.from(document.querySelectorAll(arguments[0] + ' a, ' + arguments[0] + ' span'))\
             .filter(function (e) { return /^unsafe (cell )?link \\d+$/.test(e.textContent); })\
             .map(function (e) { return [e.tagName, e.getAttribute('href')]; });",
            vec![json!(answer_css)],
        )
        .await;
    let unsafe_links = unsafe_links.as_array().unwrap();
    assert_eq!(
        unsafe_links.len(),
        strings("unsafe_urls").len() + 3,
        "{unsafe_links:?}"
    );
    assert!(
        unsafe_links.iter().all(|l| l[1].is_null()),
        "unsafe URLs are never an href: {unsafe_links:?}"
    );
    let url_before = h.client.current_url().await.unwrap();
    let clicked = click_all(
        &h,
        &format!("{answer_css} .rich-text span, {answer_css} [data-part=table] span"),
    )
    .await;
    assert!(clicked > 0);
    let products = click_all(&h, &format!("{answer_css} [data-testid=product]")).await;
    assert_eq!(products, strings("unsafe_urls").len());
    assert!(
        h.client
            .find_all(Locator::Css(&format!(
                "{answer_css} [data-testid=product][href]"
            )))
            .await
            .unwrap()
            .is_empty(),
        "product cards with unsafe URLs have no href"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        h.client.current_url().await.unwrap(),
        url_before,
        "nothing navigated"
    );
    assert_eq!(
        h.client.windows().await.unwrap().len(),
        1,
        "nothing opened a window"
    );
    no_trap_fired(&h, "after the streamed answer and the clicks").await;

    // The host page got the custom marker's hostile key and payload as data.
    h.client.enter_parent_frame().await.unwrap();
    let custom = h
        .eventually("the chat_custom event", || async {
            let v = h.js("return window.__custom;", vec![]).await;
            (v.as_array()?.len() == 1).then_some(v)
        })
        .await;
    assert_eq!(custom[0]["key"], json!(texts[0]));
    assert_eq!(custom[0]["payload"]["html"], json!(texts[1]));
    let host_offenders = h
        .js(
            "return Array.from(document.querySelectorAll('body *')).filter(function (e) { \
             return Array.from(e.attributes).some(function (a) { return /^on/i.test(a.name); }); }).length;",
            vec![],
        )
        .await;
    assert_eq!(
        host_offenders,
        json!(0),
        "no handler attributes on the host page"
    );

    // The same answer again from history, after a reload.
    let id = h
        .js(
            &format!("return localStorage.getItem('{HOST_KEY}');"),
            vec![],
        )
        .await;
    let key = ConversationKey::new("demo-shop", id.as_str().expect("the visitor id"));
    h.state
        .store
        .push(&key, &hostile_answer("msg_hostile_stored"))
        .unwrap();
    h.goto("/demo/").await;
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.js(TRAP, vec![]).await;
    let stored = "[data-testid=message][data-role=assistant]:not(.welcome)";
    h.eventually("the stored answer", || async {
        (h.count(&format!("{stored} [data-part=products]")).await >= 1).then_some(())
    })
    .await;
    reads_literally(&h, stored, &texts).await;
    assert_eq!(
        dom_offenders(&h).await,
        json!([]),
        "the answer from history"
    );
    click_all(&h, &format!("{stored} .rich-text span")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    no_trap_fired(&h, "after the answer from history").await;

    // And the visitor's own hostile words.
    h.ask(&texts[1]).await;
    h.sent(&squash(&texts[1])).await;
    assert_eq!(dom_offenders(&h).await, json!([]), "the visitor's message");
    no_trap_fired(&h, "after the visitor's message").await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_hostile_messages_name_and_files_run_no_script() {
    let texts = strings("text");
    let names = strings("file_names");
    let h = Harness::start().await;
    open_trapped(&h).await;

    // The visitor asks for a person from the menu; Mallory, whose name is hostile, answers.
    h.wait_css(support::pages::widget::TALK_TO_PERSON)
        .await
        .click()
        .await
        .unwrap();
    let id = {
        h.client.enter_parent_frame().await.unwrap();
        let v = h
            .js(
                &format!("return localStorage.getItem('{HOST_KEY}');"),
                vec![],
            )
            .await;
        h.enter_chat().await;
        v
    };
    let key = ConversationKey::new("demo-shop", id.as_str().expect("the visitor id"));
    let session = h
        .eventually("the waiting session", || async {
            h.state.store.latest_session(&key).unwrap()
        })
        .await;
    let mallory = texts[1].clone();
    h.state
        .core
        .put_agent(
            "demo-shop",
            "agent-mallory",
            &mallory,
            Some("https://127.0.0.1:1/a.png?\"onerror=\"window.__pwned='avatar'".into()),
        )
        .unwrap();
    for chunk in texts.chunks(10) {
        h.state
            .core
            .agent_message(
                &session,
                "agent-mallory",
                chunk.iter().map(|t| Part::text(t.clone())).collect(),
            )
            .unwrap();
    }
    // Files with hostile names: HTML, SVG as a file, SVG that claims to be a PNG.
    let html = base64_of(include_bytes!("hostile/uploads/evil.html"));
    let svg = base64_of(include_bytes!("hostile/uploads/evil.svg"));
    let mut files = vec![];
    for (i, name) in names.iter().enumerate() {
        let (data, mime) = match i % 3 {
            0 => (html.clone(), "text/html"),
            1 => (svg.clone(), "image/svg+xml"),
            _ => (svg.clone(), "image/png"),
        };
        files.push(Part::File(FilePart {
            filename: Some(name.clone()),
            data: Some(data),
            mime: Some(mime.into()),
            ..Default::default()
        }));
    }
    files.push(Part::Image(ImagePart {
        filename: Some(texts[0].clone()),
        data: Some(svg.clone()),
        mime: Some("image/png".into()),
        ..Default::default()
    }));
    let mut stored_names = vec![];
    let mut image_url = None;
    for chunk in files.chunks(9) {
        let (message, _) = h
            .state
            .core
            .agent_message(&session, "agent-mallory", chunk.to_vec())
            .unwrap();
        for p in &message.parts {
            match p {
                Part::File(f) => stored_names.push(f.filename.clone().unwrap()),
                Part::Image(i) => image_url = i.url.clone(),
                _ => {}
            }
        }
    }

    let agent_css = "[data-testid=message][data-role=agent]";
    h.eventually("Mallory's files", || async {
        (h.count(&format!("{agent_css} [data-part=file]")).await == stored_names.len())
            .then_some(())
    })
    .await;
    reads_literally(&h, agent_css, &texts).await;
    reads_literally(&h, &format!("{agent_css} [data-part=file]"), &stored_names).await;
    reads_literally(
        &h,
        support::pages::widget::AGENT_NAME,
        std::slice::from_ref(&mallory),
    )
    .await;
    let hrefs = h
        .js(
            "return Array.from(document.querySelectorAll(arguments[0] + ' [data-part=file] a')).map(function (a) { return a.getAttribute('href'); });",
            vec![json!(agent_css)],
        )
        .await;
    let prefix = format!("{}/api/v1/chat/livechat/attachments/", h.widget_base);
    assert!(
        hrefs.as_array().unwrap().len() == stored_names.len()
            && hrefs
                .as_array()
                .unwrap()
                .iter()
                .all(|u| u.as_str().is_some_and(|u| u.starts_with(&prefix))),
        "every file link is a signed link of ours: {hrefs}"
    );
    assert_eq!(dom_offenders(&h).await, json!([]), "Mallory's messages");

    // The visitor answers with hostile words; Mallory ends the chat with hostile ones.
    h.ask(&texts[2]).await;
    h.sent(&squash(&texts[2])).await;
    let session = h.state.store.latest_session(&key).unwrap().unwrap();
    h.state
        .core
        .agent_close(&session, "agent-mallory", Some(texts[3].clone()))
        .unwrap();
    reads_literally(
        &h,
        support::pages::widget::LIVECHAT_CLOSED,
        &[texts[3].clone()],
    )
    .await;
    assert_eq!(dom_offenders(&h).await, json!([]), "the closed chat");
    tokio::time::sleep(Duration::from_millis(300)).await;
    no_trap_fired(&h, "after the livechat").await;

    // The SVG that claims to be a PNG, opened on its own: a picture that does not decode, no
    // document that could run its script.
    let image_url = image_url.expect("the image's signed link");
    h.client.goto(&image_url).await.unwrap();
    let page = h
        .js(
            "return [document.contentType, document.querySelectorAll('svg, script').length, \
             window.__trap ? window.__trap.slice() : []];",
            vec![],
        )
        .await;
    assert_eq!(page, json!(["image/png", 0, []]), "{image_url}");
    h.finish().await;
}
