//! `cargo xtask setup`: install what is missing, each tool only when absent or at the wrong
//! version.

use std::path::Path;
use std::process::Command;

use crate::Result;
use crate::tools::*;

/// wasm-split-cli (crate `wasm_split_cli_support`, the splitter cargo-leptos uses): the
/// widget's lazily loaded chunks.
pub const WASM_SPLIT_VERSION: &str = "0.2.4";
/// binaryen from the npm registry: Debian's binaryen (108) breaks the module at start-up.
pub const BINARYEN_VERSION: &str = "132";
/// terser from the npm registry minifies the loader.
pub const TERSER_VERSION: &str = "5.51.2";
/// TypeScript from the npm registry: the webhook tests run seed 002's own TypeScript
/// `verifyDialogeWebhook`, unchanged, in a Node receiver (server/tests/webhook_receiver/).
pub const TYPESCRIPT_VERSION: &str = "5.9.3";
/// The seed's own browser client for the message stream (seed 002, "consume the message
/// stream"), which the cross-origin tests run unchanged.
pub const FETCH_EVENT_SOURCE_VERSION: &str = "2.0.1";
/// Seed 004's client, `socket.io-client` 4.x (npm), run unchanged by the Dosti tests.
pub const SOCKET_IO_CLIENT_VERSION: &str = "4.8.4";
/// axe-core, the accessibility checker the end-to-end tests run on the chat (issue 17).
pub const AXE_CORE_VERSION: &str = "4.14.1";
/// Seed 001's Python example imports `websockets` (PyPI), installed into target/tools/python.
pub const PYTHON_WEBSOCKETS_VERSION: &str = "17.4";

/// What a command is about to do, and so which tools it needs.
#[derive(PartialEq, Clone, Copy, Debug)]
pub enum Needs {
    /// The release build of the widget and the server (`build`, `demo`).
    Build,
    /// The build, and the server's tests (`test server`): TypeScript, the seed clients, Python's
    /// websockets and PostgreSQL, no browser.
    Server,
    /// The widget's own tests (`test widget`): wasm-bindgen's test runner and Chromium, no
    /// release build.
    Widget,
    /// Every tool (`setup`, `test`, `test e2e`, `screenshot`, `bench`).
    Everything,
}

impl Needs {
    /// The release build of the widget: rust-src, wasm-split, wasm-opt, terser.
    fn release_build(self) -> bool {
        self != Needs::Widget
    }

    /// The server's tests run seed clients in Node and Python and a PostgreSQL server.
    fn server_tests(self) -> bool {
        matches!(self, Needs::Server | Needs::Everything)
    }

    /// Headless Chromium and ChromeDriver.
    fn browser(self) -> bool {
        matches!(self, Needs::Widget | Needs::Everything)
    }
}

pub fn setup(needs: Needs) -> Result {
    wasm_target()?;
    if needs.release_build() {
        release_build_tools()?;
    } else {
        wasm_bindgen()?;
    }
    setup_tests(needs)
}

/// Where Debian's `debian-reference-*` packages put the pages `cargo xtask eval` crawls.
pub const DEBIAN_REFERENCE: &str = "/usr/share/debian-reference";
/// The languages of the evaluation sets (`eval/debian-reference/questions.<lang>.json`).
pub const EVAL_LANGS: [&str; 3] = ["en", "de", "es"];

/// The evaluation's corpus (eval/README.md): Debian's `debian-reference-en`, `-de` and `-es`,
/// each installed when its pages are missing. `setup` and `eval` call it.
pub fn eval_corpus() -> Result {
    let missing: Vec<String> = EVAL_LANGS
        .iter()
        .filter(|l| {
            !Path::new(DEBIAN_REFERENCE)
                .join(format!("index.{l}.html"))
                .exists()
        })
        .map(|l| format!("debian-reference-{l}"))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "xtask: the evaluation's pages are missing: installing Debian's {} (eval/README.md)",
            missing.join(" ")
        );
        apt_install(&missing.iter().map(String::as_str).collect::<Vec<_>>())?;
    }
    Ok(())
}

/// The wasm32 target (also what `lint` needs to check the widget).
pub fn wasm_target() -> Result {
    let targets = output_of(Command::new("rustup").args(["target", "list", "--installed"]))
        .unwrap_or_default();
    if !targets
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        eprintln!("setup: adding the wasm32-unknown-unknown target");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

/// What the widget's release build runs: its own `std`, wasm-split-cli, wasm-bindgen-cli,
/// wasm-opt and terser.
fn release_build_tools() -> Result {
    // The standard library's source: the widget's build compiles its own `std` (smaller).
    let sysroot = output_of(Command::new("rustc").args(["--print", "sysroot"])).unwrap_or_default();
    if !Path::new(sysroot.trim())
        .join("lib/rustlib/src/rust/library/std")
        .exists()
    {
        eprintln!("setup: adding the rust-src component");
        run(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }

    // wasm-split-cli: splits the app's `lazy!` chunks out of the wasm (`build_widget`)
    let installed =
        output_of(Command::new("cargo").args(["install", "--list"])).unwrap_or_default();
    if !installed.contains(&format!("wasm_split_cli_support v{WASM_SPLIT_VERSION}:")) {
        eprintln!("setup: installing wasm-split-cli {WASM_SPLIT_VERSION} (about 2 minutes)");
        run(Command::new("cargo").args([
            "install",
            "wasm_split_cli_support",
            "--version",
            WASM_SPLIT_VERSION,
            "--features",
            "build-binary",
            "--locked",
        ]))?;
    }

    wasm_bindgen()?;

    // wasm-opt from npm's binaryen
    let wasm_opt = output_of(Command::new(wasm_opt_bin().join("wasm-opt")).arg("--version"))
        .unwrap_or_default();
    if !wasm_opt.contains(&format!("version_{BINARYEN_VERSION}")) {
        eprintln!("setup: installing wasm-opt (npm binaryen@{BINARYEN_VERSION})");
        npm_install(&binaryen_dir(), &format!("binaryen@{BINARYEN_VERSION}"))?;
    }

    // terser, for the loader
    let terser =
        output_of(Command::new("node").arg(terser_bin()).arg("--version")).unwrap_or_default();
    if terser != format!("terser {TERSER_VERSION}") {
        eprintln!("setup: installing terser {TERSER_VERSION} (npm)");
        npm_install(&terser_dir(), &format!("terser@{TERSER_VERSION}"))?;
    }
    Ok(())
}

/// wasm-bindgen-cli (and its `wasm-bindgen-test-runner`, which runs tests/wasm.rs).
fn wasm_bindgen() -> Result {
    // wasm-bindgen-cli: exactly the crate version in Cargo.lock
    let want = locked_version("wasm-bindgen")?;
    let have = output_of(Command::new(cargo_bin().join("wasm-bindgen")).arg("--version"));
    if have.as_deref() != Some(&format!("wasm-bindgen {want}")) {
        eprintln!("setup: installing wasm-bindgen-cli {want} (about 5 minutes)");
        // Without --locked: its lockfile asks for a crate version the registry here lacks.
        run(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &want,
            "--force",
        ]))?;
    }
    Ok(())
}

/// What the tests run besides cargo, each part only for the tests that need it.
fn setup_tests(needs: Needs) -> Result {
    if needs.server_tests() {
        let typescript =
            std::fs::read_to_string(typescript_package().join("package.json")).unwrap_or_default();
        if !typescript.contains(&format!("\"version\": \"{TYPESCRIPT_VERSION}\"")) {
            eprintln!("setup: installing typescript {TYPESCRIPT_VERSION} (npm)");
            npm_install(
                &typescript_dir(),
                &format!("typescript@{TYPESCRIPT_VERSION}"),
            )?;
        }
        let fes = std::fs::read_to_string(
            seed_clients_dir().join("node_modules/@microsoft/fetch-event-source/package.json"),
        )
        .unwrap_or_default();
        if !fes.contains(&format!("\"version\": \"{FETCH_EVENT_SOURCE_VERSION}\"")) {
            eprintln!(
                "setup: installing @microsoft/fetch-event-source {FETCH_EVENT_SOURCE_VERSION} (npm)"
            );
            npm_install_all(
                &seed_clients_dir(),
                &[
                    &format!("@microsoft/fetch-event-source@{FETCH_EVENT_SOURCE_VERSION}"),
                    &format!("socket.io-client@{SOCKET_IO_CLIENT_VERSION}"),
                ],
            )?;
        }
    }
    if needs == Needs::Everything {
        let axe = std::fs::read_to_string(axe_package().join("package.json")).unwrap_or_default();
        if !axe.contains(&format!("\"version\": \"{AXE_CORE_VERSION}\"")) {
            eprintln!("setup: installing axe-core {AXE_CORE_VERSION} (npm)");
            npm_install(
                &root().join("target/tools/axe"),
                &format!("axe-core@{AXE_CORE_VERSION}"),
            )?;
        }
    }
    if needs.server_tests() {
        let sio = std::fs::read_to_string(
            seed_clients_dir().join("node_modules/socket.io-client/package.json"),
        )
        .unwrap_or_default();
        if !sio.contains(&format!("\"version\": \"{SOCKET_IO_CLIENT_VERSION}\"")) {
            eprintln!("setup: installing socket.io-client {SOCKET_IO_CLIENT_VERSION} (npm)");
            // Both seed clients in one install: npm prunes what a later install does not name.
            npm_install_all(
                &seed_clients_dir(),
                &[
                    &format!("@microsoft/fetch-event-source@{FETCH_EVENT_SOURCE_VERSION}"),
                    &format!("socket.io-client@{SOCKET_IO_CLIENT_VERSION}"),
                ],
            )?;
        }
        let have_ws = output_of(
            Command::new("python3")
                .env("PYTHONPATH", python_dir())
                .args(["-c", "import websockets; print(websockets.__version__)"]),
        );
        if have_ws.as_deref() != Some(PYTHON_WEBSOCKETS_VERSION) {
            eprintln!("setup: installing Python websockets {PYTHON_WEBSOCKETS_VERSION} (pip)");
            if output_of(Command::new("python3").args(["-m", "pip", "--version"])).is_none() {
                apt_install(&["python3", "python3-pip"])?;
            }
            run(Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--upgrade",
                    "--target",
                ])
                .arg(python_dir())
                .arg(format!("websockets=={PYTHON_WEBSOCKETS_VERSION}")))?;
        }
    }
    if needs.browser() {
        // Headless Chromium for the wasm and end-to-end tests.
        let browser = output_of(Command::new("chromium").arg("--version"));
        let driver = output_of(Command::new("chromedriver").arg("--version"));
        if browser.is_none() || driver.is_none() {
            eprintln!("setup: installing Debian's chromium and chromium-driver");
            apt_install(&["chromium", "chromium-driver"])?;
        }
    }
    if needs.server_tests() {
        // PostgreSQL's server, for the tests of the PostgreSQL store and of two instances on
        // one database (each test binary runs a throwaway cluster of its own).
        let postgres = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|majors| {
            majors
                .flatten()
                .any(|m| m.path().join("bin/postgres").exists())
        });
        if !postgres {
            eprintln!("setup: installing Debian's postgresql (the PostgreSQL store's tests)");
            apt_install(&["postgresql"])?;
        }
    }
    Ok(())
}
