//! The app's renderers in headless Chromium (wasm-bindgen-test; `cargo xtask test` runs them).

#![cfg(target_arch = "wasm32")]

use dgbot::logic::launch::LaunchParams;
use dgbot::state::Session;
use dgbot::state::view_model::{Delivery, MessageVm};
use dgbot::ui::parts::message_view;
use dgbot_protocol::message::{
    AttachmentRules, Block, ContactFormMarker, CustomMarker, FieldKind, FormField,
    HumanAgentMarker, ImageConstraints, ImagePart, ImageUploadMarker, ListItem, Part, Product,
    ProductsPart, RichText, Span, SupportTicketMarker, TableCell, TablePart,
};
use dgbot_protocol::stream::rich_text_deltas;
use dgbot_protocol::{Role, StreamEvent, Transcript};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

fn mount(m: MessageVm) -> HtmlElement {
    mount_with(m, |_| {})
}

/// Mount with the page's state, which the test may configure first.
fn mount_with(m: MessageVm, configure: impl FnOnce(&Session) + 'static) -> HtmlElement {
    let doc = document();
    let el: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&el).unwrap();
    let handle = leptos::mount::mount_to(el.clone(), move || {
        let session = dgbot::state::provide(LaunchParams::default());
        configure(&session);
        message_view(m, |_| ().into_any())
    });
    std::mem::forget(handle);
    el
}

/// Let Leptos run its scheduled render effects.
async fn tick() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn hostile_part() -> Part {
    Part::RichText(RichText {
        part_id: "p".into(),
        blocks: vec![
            Block::paragraph(vec![
                Span::text("<script>window.__pwned = 1</script>"),
                Span::bold("<img src=x onerror=\"window.__pwned = 2\">"),
                Span::link("click me", "javascript:window.__pwned = 3"),
                Span::link("data", "data:text/html,<script>alert(1)</script>"),
                Span::link("safe", "https://example.com/a?b=c"),
                Span::strike("old"),
            ]),
            Block::BulletList {
                items: vec![
                    ListItem {
                        spans: vec![Span::text("one")],
                    },
                    ListItem {
                        spans: vec![Span::text("two")],
                    },
                ],
            },
            Block::Unknown,
        ],
    })
}

#[wasm_bindgen_test]
async fn rich_text_renders_server_text_as_text_and_only_safe_links() {
    let el = mount(MessageVm::new(
        1,
        Role::Assistant,
        &[hostile_part(), Part::Unknown],
        Delivery::Done,
    ));
    tick().await;
    let q = |css: &str| el.query_selector_all(css).unwrap().length();
    assert_eq!(q("script"), 0);
    assert_eq!(q("img"), 0);
    assert_eq!(q("a"), 1, "only the https link is a link");
    let a: HtmlElement = el.query_selector("a").unwrap().unwrap().unchecked_into();
    assert_eq!(
        a.get_attribute("href").as_deref(),
        Some("https://example.com/a?b=c")
    );
    assert_eq!(
        a.get_attribute("rel").as_deref(),
        Some("noopener noreferrer")
    );
    assert_eq!(q("strong"), 1);
    assert_eq!(q("s"), 1);
    assert_eq!(q("li"), 2);
    assert_eq!(
        q("[data-part=unknown]"),
        1,
        "unknown parts get a quiet placeholder"
    );
    let text = el.text_content().unwrap();
    assert!(
        text.contains("<script>window.__pwned = 1</script>"),
        "shown as text: {text}"
    );
    assert!(text.contains("click me"), "unsafe link keeps its text");
    assert!(
        js_sys::Reflect::get(&window(), &"__pwned".into())
            .unwrap()
            .is_undefined()
    );
    assert_eq!(
        el.query_selector("[data-role]")
            .unwrap()
            .unwrap()
            .get_attribute("data-role")
            .as_deref(),
        Some("assistant")
    );
}

#[wasm_bindgen_test]
async fn deltas_render_progressively_and_match_the_final_part() {
    let part = RichText {
        part_id: "p1".into(),
        blocks: vec![Block::paragraph(vec![
            Span::text("Standard shipping takes "),
            Span::bold("2–4 business days"),
        ])],
    };
    let vm = MessageVm::new(2, Role::Assistant, &[], Delivery::Pending);
    let el = mount(vm.clone());
    tick().await;
    assert!(el.query_selector(".bubble.streaming").unwrap().is_some());

    let mut transcript = Transcript::new();
    let mut seen = vec![];
    for delta in rich_text_deltas(&part) {
        let change = transcript.apply(&StreamEvent::delta("p1", delta)).unwrap();
        assert!(vm.apply(&change, transcript.draft().unwrap()));
        tick().await;
        seen.push(el.text_content().unwrap());
    }
    assert_eq!(
        seen.first().map(String::as_str),
        Some(""),
        "the empty part renders nothing yet"
    );
    assert!(
        seen.iter().any(|t| t == "Standard shipping"),
        "text grows word by word: {seen:?}"
    );
    assert_eq!(
        seen.last().unwrap(),
        "Standard shipping takes 2–4 business days"
    );
    vm.delivery.set(Delivery::Done);
    tick().await;
    assert!(el.query_selector(".bubble.streaming").unwrap().is_none());
    assert_eq!(
        el.query_selector("strong")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "2–4 business days"
    );
}

#[wasm_bindgen_test]
async fn a_visitor_message_renders_as_plain_text() {
    let el = mount(MessageVm::new(
        3,
        Role::User,
        &[Part::text("<b>hi</b>\nsecond line")],
        Delivery::Done,
    ));
    tick().await;
    assert_eq!(el.query_selector_all("b").unwrap().length(), 0);
    assert_eq!(
        el.query_selector("[data-part=text]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "<b>hi</b>\nsecond line"
    );
}

fn field(key: &str, kind: FieldKind, required: bool) -> FormField {
    FormField {
        key: key.into(),
        label: key.to_uppercase(),
        kind,
        required,
    }
}

#[wasm_bindgen_test]
async fn every_part_type_has_its_renderer() {
    let parts = vec![
        Part::Image(ImagePart {
            part_id: Some("i".into()),
            url: Some("https://cdn.example.com/a.png".into()),
            alt: Some("A lamp".into()),
            width: Some(320),
            ..Default::default()
        }),
        Part::Table(TablePart {
            part_id: "t".into(),
            caption: Some("Compare".into()),
            columns: vec![TableCell::text("Lamp"), TableCell::text("Price")],
            rows: vec![vec![TableCell::text("Aurora"), TableCell::text("1.299 kr")]],
        }),
        Part::Products(ProductsPart {
            part_id: "p".into(),
            products: vec![Product {
                title: "Aurora".into(),
                url: "https://shop.example.com/aurora".into(),
                price: Some(1299.0),
                currency: Some("DKK".into()),
                image_url: Some("javascript:alert(1)".into()),
                ..Default::default()
            }],
        }),
        Part::ShowContactForm(ContactFormMarker {
            part_id: "f".into(),
            fields: vec![
                field("name", FieldKind::Text, true),
                field("email", FieldKind::Email, true),
                field("note", FieldKind::Textarea, false),
            ],
        }),
        Part::ShowSupportTicket(SupportTicketMarker {
            part_id: "s".into(),
            fields: vec![field("email", FieldKind::Email, true)],
            attachments: AttachmentRules {
                max_files: 2,
                max_size_bytes: 1 << 20,
                accepted_types: vec!["image/png".into()],
            },
        }),
        Part::RequestImageUpload(ImageUploadMarker {
            part_id: "u".into(),
            prompt: Some("A photo please".into()),
            constraints: ImageConstraints {
                max_size_bytes: 1 << 20,
                accepted_types: vec!["image/jpeg".into(), "image/svg+xml".into()],
            },
        }),
        Part::RequestHumanAgent(HumanAgentMarker {
            part_id: "h".into(),
            reason: None,
        }),
        Part::Custom(CustomMarker {
            part_id: "c".into(),
            key: "k".into(),
            payload: None,
        }),
        Part::Unknown,
    ];
    let el = mount(MessageVm::new(4, Role::Assistant, &parts, Delivery::Done));
    tick().await;
    let one = |css: &str| {
        el.query_selector(css)
            .unwrap()
            .unwrap_or_else(|| panic!("no {css}"))
    };
    let count = |css: &str| el.query_selector_all(css).unwrap().length();

    let img = one("[data-part=image] img");
    assert_eq!(img.get_attribute("alt").as_deref(), Some("A lamp"));
    assert_eq!(img.get_attribute("loading").as_deref(), Some("lazy"));
    assert_eq!(img.get_attribute("width").as_deref(), Some("320"));

    assert_eq!(
        one("[data-part=table]").get_attribute("role").as_deref(),
        Some("region")
    );
    assert_eq!(count("[data-part=table] th"), 2);
    assert_eq!(count("[data-part=table] tbody tr"), 1);
    assert_eq!(
        one("[data-part=table] caption").text_content().as_deref(),
        Some("Compare")
    );

    let card = one("[data-testid=product]");
    assert_eq!(
        card.get_attribute("href").as_deref(),
        Some("https://shop.example.com/aurora")
    );
    assert_eq!(
        card.get_attribute("rel").as_deref(),
        Some("noopener noreferrer")
    );
    assert_eq!(
        count("[data-testid=product] img"),
        0,
        "a javascript: image URL is dropped"
    );
    let price = one(".product-price").text_content().unwrap();
    assert!(
        price.contains("1,299.00") && price.contains("DKK"),
        "{price}"
    );

    assert_eq!(
        count("[data-part=show_contact_form] input[name=name][required]"),
        1
    );
    assert_eq!(
        count("[data-part=show_contact_form] input[name=email][type=email]"),
        1
    );
    assert_eq!(
        count("[data-part=show_contact_form] textarea[name=note]"),
        1
    );
    assert_eq!(count("[data-part=show_contact_form] label"), 3);
    assert_eq!(
        one("[data-part=show_support_ticket] input[type=file]")
            .get_attribute("accept")
            .as_deref(),
        Some("image/png")
    );

    let upload = one("[data-part=request_image_upload] [data-testid=image-input]");
    assert_eq!(
        upload.get_attribute("accept").as_deref(),
        Some("image/jpeg"),
        "no SVG, even when asked"
    );
    assert!(
        one("[data-part=request_image_upload]")
            .text_content()
            .unwrap()
            .contains("A photo please")
    );
    assert!(
        el.query_selector("[data-testid=agent-offline]")
            .unwrap()
            .is_some(),
        "no config: livechat is not live"
    );
    assert_eq!(count("[data-part=unknown]"), 1);
}

#[wasm_bindgen_test]
async fn the_human_agent_marker_offers_a_hand_over_when_livechat_is_live() {
    use dgbot_protocol::api::{ChatConfig, LivechatConfig, Theme};
    let config = ChatConfig {
        chatbot_id: "b".into(),
        name: "Bot".into(),
        avatar: None,
        welcome_message: "Hi".into(),
        theme: Theme::default(),
        popup_messages: vec![],
        starter_prompts: vec![],
        voice: false,
        language: "da".into(),
        strings: Default::default(),
        chat_type: "shopping_assistant".into(),
        livechat: LivechatConfig {
            enabled: true,
            configured: true,
            availability_status: "live".into(),
            availability_reason: Some("working_hours".into()),
            attachments_enabled: false,
            max_attachment_size_bytes: 0,
        },
    };
    let marker = Part::RequestHumanAgent(HumanAgentMarker {
        part_id: "h".into(),
        reason: None,
    });
    let el = mount_with(
        MessageVm::new(5, Role::Assistant, &[marker], Delivery::Done),
        move |session| session.config.set(Some(config)),
    );
    tick().await;
    let button = el
        .query_selector("[data-testid=handover]")
        .unwrap()
        .expect("a hand-over button");
    assert_eq!(button.text_content().as_deref(), Some("Talk to a person"));
    assert!(
        el.query_selector("[data-testid=agent-offline]")
            .unwrap()
            .is_none()
    );
}

/// Bad input to the browser-side JSON path: too deep, or a value that refers to itself (a host
/// page may post one), is refused with an error instead of overflowing the stack.
#[wasm_bindgen_test]
fn json_refuses_what_nests_too_deep_and_keeps_whole_numbers_integers() {
    use dgbot::services::json;
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(json::parse(&deep).unwrap_err().contains("nested deeper"));
    let cyclic = js_sys::Object::new();
    js_sys::Reflect::set(&cyclic, &"self".into(), &cyclic).unwrap();
    assert_eq!(json::from_js(&cyclic), serde_json::Value::Null);
    let v = json::parse(r#"{"n": 3, "x": 1.5, "s": "a"}"#).unwrap();
    assert_eq!(v["n"].as_u64(), Some(3));
    assert_eq!(v["x"].as_f64(), Some(1.5));
    assert!(json::parse("{not json").is_err());
}
