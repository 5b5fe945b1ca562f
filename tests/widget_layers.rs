//! The widget's layers only import downward (src/lib.rs): `ui` → `state` → `services` →
//! `logic` → the protocol crate. The compiler sees one crate; this test keeps the rules it
//! cannot see:
//!
//! - a file names no module of a layer above its own (`crate::ui` from `state`, …);
//! - `logic` stays plain Rust: no Leptos, no web-sys, no futures of the browser (only
//!   `logic/i18n.rs` reads the page's catalogue, through `js_sys`, on wasm alone);
//! - inside a layer, its modules import each other without a circle (a layer's `mod.rs` is its
//!   front door and is left out);
//! - only `state/mod.rs` touches Leptos' context (`provide_context`, `expect_context`,
//!   `use_context`): components take narrow handles through `state::expect`;
//! - Leptos' private API (`__reexports`, `__private`) is used in `leptos_private.rs` alone.
//!
//! It reads the sources: every path `crate::…` outside comments (with its `{…}` groups).

#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dgbot_testkit::source::{rust_files, without_comments};

/// The layers, lowest first.
const LAYERS: [&str; 4] = ["logic", "services", "state", "ui"];

/// What `lib.rs` defines beside the layers, and which layers may name it.
fn root_item_allowed(item: &str, layer: usize) -> bool {
    match item {
        // `lazy!` and its error: every layer may split code into chunks.
        "lazy" | "Unloaded" => true,
        // Leptos' private API, for the layers that use Leptos.
        "leptos_private" => layer >= 1,
        _ => false,
    }
}

/// Every path a file names under `crate::`, as its segments: `crate::state::{self, Host}`
/// gives `[state, self]` and `[state, Host]`.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut found = vec![];
    for (at, _) in text.match_indices("crate::") {
        let before = text[..at].chars().next_back().unwrap_or(' ');
        if before.is_alphanumeric() || before == '_' || before == '$' {
            continue; // `x_crate::`, or `$crate::` in a macro (lib.rs)
        }
        let rest: Vec<char> = text[at + "crate::".len()..].chars().collect();
        tree(&rest, &mut 0, vec![], &mut found);
    }
    found
}

/// Read one use-tree at `rest[*at..]` (after `prefix::`) into `found`.
fn tree(rest: &[char], at: &mut usize, mut path: Vec<String>, found: &mut Vec<Vec<String>>) {
    let skip_space = |at: &mut usize| {
        while rest.get(*at).is_some_and(|c| c.is_whitespace()) {
            *at += 1;
        }
    };
    loop {
        skip_space(at);
        if rest.get(*at) == Some(&'{') {
            // `{a, b::c, d::{e}}`: each item, after the same prefix.
            *at += 1;
            loop {
                skip_space(at);
                match rest.get(*at) {
                    Some('}') => {
                        *at += 1;
                        return;
                    }
                    Some(',') => *at += 1,
                    None => return,
                    Some(_) => tree(rest, at, path.clone(), found),
                }
            }
        }
        let start = *at;
        while rest
            .get(*at)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            *at += 1;
        }
        if *at == start {
            if !path.is_empty() {
                found.push(path);
            }
            return;
        }
        path.push(rest[start..*at].iter().collect());
        if rest.get(*at) == Some(&':') && rest.get(*at + 1) == Some(&':') {
            *at += 2;
        } else {
            found.push(path);
            return;
        }
    }
}

/// Where a file is: its layer (an index in [`LAYERS`]) and its module in that layer (`""` for
/// the layer's `mod.rs`); `None` for the files beside the layers (lib.rs, main.rs, …).
fn place(src: &Path, file: &Path) -> Option<(usize, String)> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts = rel.iter().map(|p| p.to_string_lossy().into_owned());
    let layer = parts.next()?;
    let layer = LAYERS.iter().position(|l| *l == layer)?;
    let module = parts.next().unwrap_or_default();
    let module = module.trim_end_matches(".rs");
    Some((
        layer,
        if module == "mod" {
            String::new()
        } else {
            module.to_owned()
        },
    ))
}

/// The files of `src/`, their code without comments, by path.
fn sources(src: &Path) -> Vec<(PathBuf, String)> {
    rust_files(src)
        .into_iter()
        .map(|f| {
            let code = without_comments(&std::fs::read_to_string(&f).unwrap());
            (f, code)
        })
        .collect()
}

/// Everything wrong with the sources in `src/`.
fn check(src: &Path, files: &[(PathBuf, String)]) -> Vec<String> {
    let mut broken = vec![];
    // The modules of each layer, for the circles.
    let mut modules: Vec<BTreeSet<String>> = vec![BTreeSet::new(); LAYERS.len()];
    for (file, _) in files {
        if let Some((layer, module)) = place(src, file)
            && !module.is_empty()
        {
            modules[layer].insert(module);
        }
    }
    let mut edges: Vec<BTreeMap<String, BTreeSet<String>>> = vec![BTreeMap::new(); LAYERS.len()];
    for (file, code) in files {
        let name = file.strip_prefix(src).unwrap().display().to_string();
        let Some((layer, module)) = place(src, file) else {
            // Beside the layers: lib.rs composes them; the others name nothing of the crate.
            if name != "lib.rs" && name != "main.rs" && !crate_paths(code).is_empty() {
                broken.push(format!("{name} names the crate's modules"));
            }
            continue;
        };
        for path in crate_paths(code) {
            let first = path[0].as_str();
            match LAYERS.iter().position(|l| *l == first) {
                Some(named) if named > layer => broken.push(format!(
                    "{name} ({}) names crate::{}, a layer above it",
                    LAYERS[layer],
                    path.join("::")
                )),
                Some(named) if named == layer && !module.is_empty() => {
                    if let Some(other) = path.get(1).filter(|m| modules[layer].contains(*m))
                        && *other != module
                    {
                        edges[layer]
                            .entry(module.clone())
                            .or_default()
                            .insert(other.clone());
                    }
                }
                Some(_) => {}
                None if root_item_allowed(first, layer) => {}
                None => broken.push(format!(
                    "{name} ({}) names crate::{}",
                    LAYERS[layer],
                    path.join("::")
                )),
            }
        }
        if super_escapes(code) {
            broken.push(format!(
                "{name} reaches out of its folder with super::super"
            ));
        }
        // `logic` is plain Rust, tested natively.
        if layer == 0 {
            for word in ["leptos", "web_sys", "wasm_bindgen_futures", "gloo"] {
                if names(code, word) {
                    broken.push(format!("{name} (logic) uses {word}"));
                }
            }
            if name != "logic/i18n.rs" {
                for word in ["js_sys", "wasm_bindgen"] {
                    if names(code, word) {
                        broken.push(format!("{name} (logic) uses {word}"));
                    }
                }
            }
        }
        // Components take handles through `state::expect`; only `state` provides them.
        if name != "state/mod.rs" {
            for call in ["provide_context", "expect_context", "use_context"] {
                if names(code, call) {
                    broken.push(format!("{name} calls {call} (use state::expect)"));
                }
            }
        }
    }
    for (file, code) in files {
        let name = file.strip_prefix(src).unwrap().display().to_string();
        if name != "leptos_private.rs"
            && (code.contains("__reexports") || code.contains("__private"))
        {
            broken.push(format!(
                "{name} uses Leptos' private API (keep it in leptos_private.rs)"
            ));
        }
    }
    for (layer, graph) in edges.iter().enumerate() {
        if let Some(circle) = circle(graph) {
            broken.push(format!(
                "{} imports in a circle: {}",
                LAYERS[layer],
                circle.join(" → ")
            ));
        }
    }
    broken
}

/// `word` as a path or an identifier in `code` (not inside a longer name).
fn names(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back().unwrap_or(' ');
        let after = code[at + word.len()..].chars().next().unwrap_or(' ');
        let part_of_a_name = |c: char| c.is_alphanumeric() || c == '_';
        !part_of_a_name(before) && !part_of_a_name(after)
    })
}

fn super_escapes(code: &str) -> bool {
    code.contains("super::super")
}

/// A circle in `graph` (module → the modules it names), as the modules along it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut vec![], &mut done))
}

#[test]
fn arrows_only_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = sources(&src);
    assert!(
        files
            .iter()
            .any(|(f, _)| f.ends_with("logic/answer/mod.rs")),
        "reads the widget's sources"
    );
    let broken = check(&src, &files);
    assert!(broken.is_empty(), "layers broken:\n{}", broken.join("\n"));
}

#[test]
fn the_checker_sees_a_broken_rule() {
    let src = Path::new("/w/src");
    let file = |path: &str, code: &str| (src.join(path), without_comments(code));
    let files = [
        // A comment naming `crate::ui` is not an import; a URL in a string is not a comment.
        file(
            "state/transcript.rs",
            "//! Drawn by `crate::ui`.\nuse crate::services::{api::Api, bridge};\nuse crate::ui::log; // crate::ui::app\nlet u = \"http://x\"; // crate::ui::header\n",
        ),
        file(
            "state/answer.rs",
            "use crate::state::{host::Host, transcript};\n",
        ),
        file("state/host.rs", "use crate::state::answer::Answering;\n"),
        file(
            "logic/send.rs",
            "use leptos::prelude::*;\nfn f() { crate::lazy!{} }\n",
        ),
        file(
            "ui/log.rs",
            "let s = expect_context::<S>();\nuse leptos::__reexports::send_wrapper::SendWrapper;\n",
        ),
        file(
            "ui/app.rs",
            "use crate::state::{self, Session};\nuse crate::Unloaded;\n",
        ),
    ];
    assert_eq!(
        crate_paths(&files[0].1),
        [
            vec!["services", "api", "Api"],
            vec!["services", "bridge"],
            vec!["ui", "log"]
        ],
        "{}",
        files[0].1
    );
    assert!(files[0].1.contains("http://x"), "a URL is not a comment");
    let broken = check(src, &files);
    let expected = [
        "state/transcript.rs (state) names crate::ui::log, a layer above it",
        "logic/send.rs (logic) uses leptos",
        "ui/log.rs calls expect_context (use state::expect)",
        "ui/log.rs uses Leptos' private API (keep it in leptos_private.rs)",
        "state imports in a circle: answer → host → answer",
    ];
    assert_eq!(broken, expected, "{broken:#?}");
}
