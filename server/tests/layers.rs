//! The server's layers only import downward (docs/architecture.md). The core is its own crate,
//! so the compiler already keeps it from the HTTP server, the database drivers, the
//! configuration file and the adapters; this test keeps the rules the compiler cannot see: the
//! model is a leaf, the store knows only the core's traits and the model, the adapters never
//! touch the store, the configuration file's parser produces model types and nothing but the
//! composition (`lib.rs`, `main.rs`) reads it.
//!
//! It reads the sources: every path `crate::x`, `dgbot_core::x` and `dgbot_server::x` outside
//! comments, and every `.store` outside comments in the adapters.

use std::collections::BTreeSet;
use std::path::Path;

use dgbot_testkit::source::{code, rust_files, without_comments};

/// The modules a file names under `root` (`crate`, `dgbot_core`, …): `crate::store::db` → `store`.
fn uses(text: &str, root: &str) -> BTreeSet<String> {
    let needle = format!("{root}::");
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices(&needle) {
        let before = text[..at].chars().next_back().unwrap_or(' ');
        if before.is_alphanumeric() || before == '_' {
            continue; // `dgbot_core::` inside `x_dgbot_core::`, not a path of ours
        }
        let rest = &text[at + needle.len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '{')
            .collect();
        if name.starts_with('{') {
            // `crate::{a, b::c}`: each item.
            let group = &rest[1..rest.find('}').unwrap_or(rest.len())];
            for item in group.split(',') {
                let item = item.trim().split("::").next().unwrap_or("").trim();
                if !item.is_empty() {
                    found.insert(item.to_owned());
                }
            }
        } else if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

struct Rule {
    /// Files under this folder (relative to `server/`)…
    under: &'static str,
    /// …may name these modules of this root, and no other.
    root: &'static str,
    allowed: &'static [&'static str],
}

fn check(rules: &[Rule]) -> Vec<String> {
    let server = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut broken = vec![];
    for rule in rules {
        let base = server.join(rule.under);
        let files = if base.is_dir() {
            rust_files(&base)
        } else {
            vec![base]
        };
        for file in files {
            let text = code(&file);
            for used in uses(&text, rule.root) {
                if !rule.allowed.contains(&used.as_str()) {
                    broken.push(format!(
                        "{} names {}::{used} (allowed: {:?})",
                        file.strip_prefix(server).unwrap().display(),
                        rule.root,
                        rule.allowed
                    ));
                }
            }
        }
    }
    broken
}

#[test]
fn arrows_only_point_down() {
    // The core's own types, for the layers above it.
    const CORE_TYPES: &[&str] = &[
        "Core",
        "CoreError",
        "CoreSettings",
        "ConversationKey",
        "Clock",
    ];
    let everything_in_core: Vec<&str> = [
        "model",
        "store",
        "hub",
        "conversation",
        "livechat",
        "outbox",
        "responder",
        "actions",
        "identity",
        "validation",
        "rate_limit",
        "classify",
        "knowledge",
        "error",
    ]
    .into_iter()
    .chain(CORE_TYPES.iter().copied())
    .collect();
    let everything_in_core: &'static [&'static str] =
        Box::leak(everything_in_core.into_boxed_slice());
    let rules = [
        // The model is the leaf: it names nothing of the crate but itself.
        Rule {
            under: "core/src/model",
            root: "crate",
            allowed: &["model"],
        },
        // The store: the model, the core's store traits and hub, its own modules.
        Rule {
            under: "src/store",
            root: "crate",
            allowed: &["store"],
        },
        Rule {
            under: "src/store",
            root: "dgbot_core",
            allowed: &["model", "store", "hub", "responder", "CoreError"],
        },
        // The configuration file's parser produces model types.
        Rule {
            under: "src/config.rs",
            root: "crate",
            allowed: &[],
        },
        Rule {
            under: "src/config.rs",
            root: "dgbot_core",
            allowed: &["model"],
        },
        // HTTP: the core and itself; never the adapters, the store or the configuration.
        Rule {
            under: "src/http",
            root: "crate",
            allowed: &["http", "SharedState", "AppState", "ServerConfig"],
        },
        Rule {
            under: "src/http",
            root: "dgbot_core",
            allowed: everything_in_core,
        },
        // The adapters: the core, HTTP's shared pieces, operations' counters; never the store
        // or the configuration file.
        Rule {
            under: "src/adapters",
            root: "crate",
            allowed: &["http", "ops", "adapters", "SharedState", "AppState"],
        },
        Rule {
            under: "src/adapters",
            root: "dgbot_core",
            allowed: everything_in_core,
        },
    ];
    let mut broken = check(&rules);
    // The adapters hold the core; the composition's store handle is not theirs.
    let server = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in rust_files(&server.join("src/adapters")) {
        if code(&file).contains(".store") {
            broken.push(format!("{} reads the store", file.display()));
        }
    }
    // The core's manifest has no HTTP server and no database driver.
    let manifest = std::fs::read_to_string(server.join("core/Cargo.toml")).unwrap();
    // What the core is built with; its tests may serve a site over loopback with axum.
    let manifest = manifest
        .split("[dev-dependencies]")
        .next()
        .unwrap_or_default();
    for forbidden in [
        "axum",
        "hyper",
        "tower",
        "rusqlite",
        "tokio-postgres",
        "deadpool",
        "socketioxide",
    ] {
        if manifest
            .lines()
            .any(|l| l.trim_start().starts_with(forbidden))
        {
            broken.push(format!("server/core/Cargo.toml depends on {forbidden}"));
        }
    }
    assert!(broken.is_empty(), "layers broken:\n{}", broken.join("\n"));
}

#[test]
fn the_checker_sees_a_broken_rule() {
    let adapter = without_comments(
        "//! Reads `crate::store` in a comment only.\nuse crate::store::db; // crate::config\nlet x = dgbot_core::{model::ids, hub};\nlet u = \"http://x\"; // crate::ops\n",
    );
    assert_eq!(
        uses(&adapter, "crate"),
        BTreeSet::from(["store".to_owned()])
    );
    assert_eq!(
        uses(&adapter, "dgbot_core"),
        BTreeSet::from(["model".to_owned(), "hub".to_owned()])
    );
    assert!(adapter.contains("http://x"), "a URL is not a comment");
}
