//! Project automation: `cargo xtask <command>` (a cargo alias in .cargo/config.toml).
//!
//!   setup       install what is missing: wasm32 target, wasm-split-cli, wasm-bindgen-cli, wasm-opt,
//!               Chromium and ChromeDriver (each skipped when present at the right version)
//!   build       build the iframe app (release: split into chunks, wasm-opt) and the server
//!   demo        build, then run the server on 127.0.0.1:$PORT (default 8080)
//!   test        build, then every test: native, wasm in headless Chromium, end-to-end
//!   screenshot  build, then retake docs/screenshot.png of the open widget on the demo page
//!   sizes       print the gzipped sizes of the loader and of the built widget
//!   bench       build, then stream a 5,000-event reply into the widget in headless Chromium,
//!               and measure the loader on the host page
//!   bench-server [n]  n concurrent SSE conversations, /ws clients, … against the release server (1000)
//!   fuzz [s]    cargo-fuzz, s seconds (60) a target: the SSE parser + transcript reducer, and
//!               the other wire decoders, bridge commands and URL allow-lists
//!
//! Standard library only, so it compiles in seconds on a fresh machine.

mod wasm_trim;

use std::env;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// wasm-split-cli (crate `wasm_split_cli_support`, the splitter cargo-leptos uses): the
/// widget's lazily loaded chunks.
const WASM_SPLIT_VERSION: &str = "0.2.4";
/// binaryen from the npm registry: Debian's binaryen (108) breaks the module at start-up.
const BINARYEN_VERSION: &str = "132";
/// terser from the npm registry minifies the loader.
const TERSER_VERSION: &str = "5.51.2";
/// TypeScript from the npm registry: the webhook tests run seed 002's own TypeScript
/// `verifyDialogeWebhook`, unchanged, in a Node receiver (server/tests/webhook_receiver/).
const TYPESCRIPT_VERSION: &str = "5.9.3";
/// The seed's own browser client for the message stream (seed 002, "consume the message
/// stream"), which the cross-origin tests run unchanged.
const FETCH_EVENT_SOURCE_VERSION: &str = "2.0.1";
/// Seed 004's client, `socket.io-client` 4.x (npm), run unchanged by the Dosti tests.
const SOCKET_IO_CLIENT_VERSION: &str = "4.8.4";
/// axe-core, the accessibility checker the end-to-end tests run on the chat (issue 17).
const AXE_CORE_VERSION: &str = "4.14.1";
/// Seed 001's Python example imports `websockets` (PyPI), installed into target/tools/python.
const PYTHON_WEBSOCKETS_VERSION: &str = "17.4";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(Needs::Everything),
        Some("build") => build(),
        Some("demo") => demo(),
        Some("test") => test(),
        Some("screenshot") => screenshot(),
        Some("sizes") => sizes(),
        Some("bench") => bench(),
        Some("bench-server") => bench_server(args.get(1).map(String::as_str).unwrap_or("1000")),
        Some("fuzz") => fuzz(args.get(1).map(String::as_str).unwrap_or("60")),
        _ => {
            eprintln!(
                "usage: cargo xtask <setup|build|demo|test|screenshot|sizes|bench|fuzz [seconds]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            if args[0] != "test" {
                eprintln!("xtask: {} finished in {:.0?}", args[0], started.elapsed());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo_bin() -> PathBuf {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    home.join("bin")
}

fn binaryen_dir() -> PathBuf {
    root().join("target/tools/binaryen")
}

fn wasm_opt_bin() -> PathBuf {
    binaryen_dir().join("node_modules/binaryen/bin")
}

fn terser_dir() -> PathBuf {
    root().join("target/tools/terser")
}

fn typescript_dir() -> PathBuf {
    root().join("target/tools/typescript")
}

fn typescript_package() -> PathBuf {
    typescript_dir().join("node_modules/typescript")
}

/// The seeds' own client libraries (npm), for the tests that run the seeds' examples.
fn seed_clients_dir() -> PathBuf {
    root().join("target/tools/seed-clients")
}

/// axe-core's browser script (`axe.min.js`), injected by tests/a11y_e2e.rs.
fn axe_package() -> PathBuf {
    root().join("target/tools/axe/node_modules/axe-core")
}

/// Python packages for the seeds' Python examples (`PYTHONPATH` in the tests).
fn python_dir() -> PathBuf {
    root().join("target/tools/python")
}

fn terser_bin() -> PathBuf {
    terser_dir().join("node_modules/terser/bin/terser")
}

/// `npm install --prefix dir package@version` (npm comes with Node; installed if missing).
fn npm_install(dir: &Path, package: &str) -> Result {
    npm_install_all(dir, &[package])
}

/// `npm install` of several packages at once into one folder (an install prunes what it does
/// not name, so packages that share a folder are installed together).
fn npm_install_all(dir: &Path, packages: &[&str]) -> Result {
    if output_of(Command::new("npm").arg("--version")).is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(dir)
        .args(packages))
}

/// PATH with our tools first (the right wasm-bindgen and wasm-opt).
fn tool_path() -> OsString {
    let mut paths = vec![wasm_opt_bin(), cargo_bin()];
    paths.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
    env::join_paths(paths).expect("valid PATH")
}

fn cmd(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    c.current_dir(root()).env("PATH", tool_path());
    c
}

fn run(c: &mut Command) -> Result {
    let shown = format!("{c:?}");
    let status = c
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// The first line a command prints, or None when it cannot run.
fn output_of(c: &mut Command) -> Option<String> {
    let out = c.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[derive(PartialEq, Clone, Copy)]
enum Needs {
    Build,
    Everything,
}

fn setup(needs: Needs) -> Result {
    // wasm32 target
    let targets = output_of(Command::new("rustup").args(["target", "list", "--installed"]))
        .unwrap_or_default();
    if !targets
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        eprintln!("setup: adding the wasm32-unknown-unknown target");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
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

    if needs == Needs::Everything {
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
        let axe = std::fs::read_to_string(axe_package().join("package.json")).unwrap_or_default();
        if !axe.contains(&format!("\"version\": \"{AXE_CORE_VERSION}\"")) {
            eprintln!("setup: installing axe-core {AXE_CORE_VERSION} (npm)");
            npm_install(
                &root().join("target/tools/axe"),
                &format!("axe-core@{AXE_CORE_VERSION}"),
            )?;
        }
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
        // Headless Chromium for the wasm and end-to-end tests.
        let browser = output_of(Command::new("chromium").arg("--version"));
        let driver = output_of(Command::new("chromedriver").arg("--version"));
        if browser.is_none() || driver.is_none() {
            eprintln!("setup: installing Debian's chromium and chromium-driver");
            apt_install(&["chromium", "chromium-driver"])?;
        }
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

fn apt_install(packages: &[&str]) -> Result {
    let root_user = output_of(Command::new("id").arg("-u")).as_deref() == Some("0");
    let apt = |args: &[&str]| {
        let mut c = if root_user {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !root_user {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut c)
    };
    apt(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    apt(&args)
}

fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"") {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    Err(format!("{package} is not in Cargo.lock"))
}

fn build() -> Result {
    build_with(Needs::Build)
}

fn build_with(needs: Needs) -> Result {
    setup(needs)?;
    let started = Instant::now();
    minify_loader()?;
    build_widget()?;
    precompress(&root().join("dist"))?;
    eprintln!("build: widget built in {:.0?}", started.elapsed());
    // The release server is what `demo` runs. The tests start the server themselves (in the
    // test process, or the test profile's binary), so `test` skips this build: 6-7 minutes and
    // a few GB of a cold run.
    if needs == Needs::Build {
        run(cmd("cargo").args(["build", "--release", "-p", "dgbot-server"]))?;
    }
    sizes()
}

/// The iframe app, release: compile, split, bind, optimise, name by content, into `dist/`.
///
/// - Compiled with its own `std`: panics become a bare trap, no `Debug` formatting or panic
///   locations (BENCHMARKS.md, "Bundle sizes"). Stable rustc takes these with
///   `RUSTC_BOOTSTRAP`, for this build only; the tests build the app normally, with readable
///   panics. `--emit-relocs` and the `split` feature let wasm-split find the `lazy!` functions.
/// - `wasm-split-cli` moves each `lazy!` chunk (src/lib.rs) and the code only it uses into its
///   own `split_<chunk>.wasm` (and code several chunks share into `chunk_<n>.wasm`), fetched
///   on first use by `__wasm_split.js`.
/// - wasm-bindgen writes the JS glue; wasm-opt -Oz each module; terser the glue.
/// - Every file of one build gets one content hash (`name-<16 hex>`), so the server can send
///   them `immutable`; `index.html` (the template at the root) is rewritten to those names.
///
/// This is what trunk did before the split (it has no step between cargo and wasm-bindgen).
fn build_widget() -> Result {
    run(cmd("cargo")
        .args([
            "build",
            "--profile",
            "wasm-release",
            "--target",
            "wasm32-unknown-unknown",
            "--bin",
            "dgbot",
            "--features",
            "split",
        ])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none \
             -Clink-args=--emit-relocs",
        ))?;
    let work = root().join("target/widget");
    let _ = std::fs::remove_dir_all(&work);
    let (split, bound) = (work.join("split"), work.join("bindgen"));
    run(cmd(cargo_bin().join("wasm-split-cli"))
        .args(["--target", "web", "--out-name", "dgbot"])
        .arg(root().join("target/wasm32-unknown-unknown/wasm-release/dgbot.wasm"))
        .arg(&split))?;
    run(cmd(cargo_bin().join("wasm-bindgen"))
        .args([
            "--target",
            "web",
            "--keep-lld-exports",
            "--no-demangle",
            "--no-typescript",
            "--out-name",
            "dgbot",
            "--out-dir",
        ])
        .arg(&bound)
        .arg(split.join("dgbot.wasm")))?;
    // wasm-streams' dead exports out, short import names (xtask/src/wasm_trim.rs).
    let (main_wasm, main_glue) = (bound.join("dgbot_bg.wasm"), bound.join("dgbot.js"));
    let (wasm, glue) = wasm_trim::trim(
        &std::fs::read(&main_wasm).map_err(|e| e.to_string())?,
        &std::fs::read_to_string(&main_glue).map_err(|e| e.to_string())?,
    )?;
    std::fs::write(&main_wasm, wasm).map_err(|e| e.to_string())?;
    std::fs::write(&main_glue, glue).map_err(|e| e.to_string())?;
    // The modules: the main one (bound) and the chunks, optimised in place.
    let mut modules = vec![bound.join("dgbot_bg.wasm")];
    let mut chunks = Vec::new();
    for entry in std::fs::read_dir(&split).map_err(|e| e.to_string())? {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy().into_owned();
        // `split_<chunk>.wasm`, and `chunk_<n>.wasm` for code that several chunks share.
        if name.ends_with(".wasm") && name != "dgbot.wasm" {
            chunks.push(name.trim_end_matches(".wasm").to_owned());
            modules.push(split.join(&name));
        }
    }
    chunks.sort();
    for module in &modules {
        run(cmd(wasm_opt_bin().join("wasm-opt"))
            // -Oz, then once more after flattening and re-looping the control flow: 1.3 KB
            // less gzipped than -Oz alone (BENCHMARKS.md, "Bundle sizes").
            .args([
                "-Oz",
                "--flatten",
                "--rereloop",
                "-Oz",
                "-Oz",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
            ])
            .arg(module)
            .arg("-o")
            .arg(module))?;
    }
    // The stream worker (worker/sse-worker.js): reads answers off the chat's main thread.
    let worker = work.join("sse-worker.min.js");
    run(cmd("node")
        .arg(terser_bin())
        .arg(root().join("worker/sse-worker.js"))
        .args(["--compress", "passes=2", "--mangle", "--output"])
        .arg(&worker))?;
    let glue = work.join("dgbot.min.js");
    run(cmd("node")
        .arg(terser_bin())
        .arg(bound.join("dgbot.js"))
        .args(["--module", "--compress", "passes=2", "--mangle", "--output"])
        .arg(&glue))?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let text = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let css = minify_css(&text(&root().join("style/widget.css"))?);
    let loader = if chunks.is_empty() {
        String::new()
    } else {
        text(&split.join("__wasm_split.js"))?
    };
    // One hash over everything this build wrote.
    let mut hash = Fnv::default();
    for module in &modules {
        hash.write(&read(module)?);
    }
    let worker = text(&worker)?;
    for part in [
        text(&glue)?.as_bytes(),
        css.as_bytes(),
        loader.as_bytes(),
        worker.as_bytes(),
    ] {
        hash.write(part);
    }
    let h = format!("{:016x}", hash.0);
    let dist = root().join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(&dist).map_err(|e| e.to_string())?;
    let write = |name: String, bytes: &[u8]| {
        std::fs::write(dist.join(&name), bytes).map_err(|e| format!("dist/{name}: {e}"))
    };
    let glue = text(&glue)?.replace(
        "\"./__wasm_split.js\";",
        &format!("\"./__wasm_split-{h}.js\";"),
    );
    write(format!("dgbot-{h}.js"), glue.as_bytes())?;
    write(format!("dgbot-{h}_bg.wasm"), &read(&modules[0])?)?;
    if !chunks.is_empty() {
        let mut loader = loader.replace("\"./dgbot.js\"", &format!("\"./dgbot-{h}.js\""));
        for chunk in &chunks {
            loader = loader.replace(
                &format!("\"./{chunk}.wasm\""),
                &format!("\"./{chunk}-{h}.wasm\""),
            );
            write(
                format!("{chunk}-{h}.wasm"),
                &read(&split.join(format!("{chunk}.wasm")))?,
            )?;
        }
        write(format!("__wasm_split-{h}.js"), loader.as_bytes())?;
    }
    write(format!("widget-{h}.css"), css.as_bytes())?;
    write(format!("sse-worker-{h}.js"), worker.as_bytes())?;
    let page = without_comments(&text(&root().join("index.html"))?)
        .replace("/chat/widget.css", &format!("/chat/widget-{h}.css"))
        .replace("/chat/sse-worker.js", &format!("/chat/sse-worker-{h}.js"))
        .replace("/chat/dgbot.js", &format!("/chat/dgbot-{h}.js"))
        .replace("/chat/dgbot_bg.wasm", &format!("/chat/dgbot-{h}_bg.wasm"));
    write("index.html".into(), page.as_bytes())
}

/// `html` without its `<!-- … -->` comments and the lines they leave empty: they explain the
/// template to its readers, not the page to browsers (every visitor downloads it).
fn without_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// FNV-1a, 64 bits: the build's content hash (not for security).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// The stylesheet without comments and with whitespace runs collapsed: no CSS tool needed
/// for a hand-written file with no strings or `url()`s that hold significant spaces.
fn minify_css(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    let mut min = String::with_capacity(out.len());
    let mut space = false;
    for c in out.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space
            && !min.is_empty()
            && !"{};,>".contains(c)
            && !min.ends_with(['{', '}', ';', ':', ',', '>'])
        {
            min.push(' ');
        }
        space = false;
        min.push(c);
    }
    min
}

/// loader/src/widget.js (the source) → loader/widget.js and loader/chatbotinline.js (what the
/// server sends: the floating widget, and the inline embed built from the same source with
/// `INLINE` true); loader/src/searchbar.js → loader/searchbar.js. No preamble: the loader's
/// budget is 2,048 bytes gzipped and a comment would cost 80 of them.
fn minify_loader() -> Result {
    for (source, inline, output) in [
        ("loader/src/widget.js", "false", "loader/widget.js"),
        ("loader/src/widget.js", "true", "loader/chatbotinline.js"),
        ("loader/src/searchbar.js", "false", "loader/searchbar.js"),
    ] {
        run(cmd("node").arg(terser_bin()).args([
            source,
            "--define",
            &format!("INLINE={inline}"),
            "--compress",
            "passes=3,ecma=2020,unsafe_arrows=true",
            "--ecma",
            "2020",
            "--mangle",
            "--comments",
            "false",
            "--output",
            output,
        ]))?;
    }
    Ok(())
}

/// gzip -9 every text and wasm file in dist/, so the server sends precompressed bytes.
/// Node's zlib: Brotli at quality 11 (what on-the-fly compression cannot afford), to
/// `{file}.br`, or with no output path the compressed length on stdout.
const BROTLI_JS: &str = "const z=require('zlib'),fs=require('fs');\
const b=z.brotliCompressSync(fs.readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11,[z.constants.BROTLI_PARAM_SIZE_HINT]:fs.statSync(process.argv[1]).size}});\
process.argv[2]?fs.writeFileSync(process.argv[2],b):process.stdout.write(String(b.length));";

/// gzip -9 and Brotli 11 copies of every text and wasm file in dist/, which the server sends
/// to clients that accept them (Brotli first).
fn precompress(dist: &Path) -> Result {
    for entry in std::fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if matches!(ext, "wasm" | "js" | "css" | "html") {
            run(Command::new("gzip")
                .args(["-9", "-k", "-f", "-n"])
                .arg(&path))?;
            let mut br = path.clone().into_os_string();
            br.push(".br");
            run(Command::new("node")
                .args(["-e", BROTLI_JS])
                .arg(&path)
                .arg(br))?;
        }
    }
    Ok(())
}

fn brotli_len(path: &Path) -> Result<u64> {
    let out = output_of(Command::new("node").args(["-e", BROTLI_JS]).arg(path))
        .ok_or("node could not compress")?;
    out.parse().map_err(|_| format!("brotli length: {out}"))
}

fn gzipped_len(path: &Path) -> Result<u64> {
    gzip_len(path, true)
}

/// `gzip -9` of `path`; `no_name`: without the file name in the header (`-n`).
fn gzip_len(path: &Path, no_name: bool) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .args(no_name.then_some("-n"))
        .arg(path)
        .output()
        .map_err(|e| e.to_string())?;
    Ok(out.stdout.len() as u64)
}

/// The budget figures: loader and opened-widget bytes, gzipped.
/// The opened widget's budget, gzipped: 150 KB (issue 13).
const WIDGET_BUDGET: u64 = 153_600;

fn sizes() -> Result {
    // The loader's budget is counted the stricter way, with the file name in gzip's header.
    let loader = gzip_len(&root().join("loader/widget.js"), false)?;
    let inline = gzipped_len(&root().join("loader/chatbotinline.js"))?;
    let searchbar = gzipped_len(&root().join("loader/searchbar.js"))?;
    let (mut widget, mut wasm, mut widget_br) = (0, 0, 0);
    let (mut chunks, mut chunk_total) = (Vec::new(), 0);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root().join("dist"))
        .map_err(|e| format!("dist/: {e} (run cargo xtask build)"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "wasm" | "js" | "css" | "html") {
            continue;
        }
        let (n, br) = (gzipped_len(&path)?, brotli_len(&path)?);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("split_") || name.starts_with("chunk_") {
            // A lazily loaded chunk: fetched the first time its feature is used.
            chunks.push(format!("{name} {n} B ({br} B Brotli)"));
            chunk_total += n;
            continue;
        }
        widget += n;
        widget_br += br;
        if ext == "wasm" {
            wasm = n;
        }
    }
    println!("sizes: loader/widget.js {loader} B gzipped, file name included (budget 2048)");
    println!(
        "sizes: loader/chatbotinline.js {inline} B, loader/searchbar.js {searchbar} B gzipped"
    );
    println!(
        "sizes: opened widget (dist: wasm+js+css+html, without the chunks) {widget} B gzipped (budget {WIDGET_BUDGET}), of which wasm {wasm} B; {widget_br} B with Brotli 11"
    );
    for chunk in chunks {
        println!("sizes: chunk, loaded on first use: {chunk}");
    }
    println!(
        "sizes: everything in dist, every chunk included (a visitor who uses every feature): {} B gzipped",
        widget + chunk_total
    );
    if loader > 2048 {
        return Err(format!(
            "loader/widget.js is {loader} B gzipped, over its 2,048 B budget"
        ));
    }
    if widget > WIDGET_BUDGET {
        return Err(format!(
            "the opened widget is {widget} B gzipped, over its {WIDGET_BUDGET} B budget \
             (BENCHMARKS.md, \"Bundle sizes\", says where its bytes are)"
        ));
    }
    Ok(())
}

fn demo() -> Result {
    build()?;
    let server = root().join("target/release/dgbot-server");
    run(cmd(server).env("RUST_LOG", env::var("RUST_LOG").unwrap_or_default()))
}

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// Run a cargo test command, echo its output, and add up its `test result:` lines.
fn cargo_test(c: &mut Command, tally: &mut Tally) -> Result {
    let shown = format!("{c:?}");
    eprintln!("test: {shown}");
    let mut child = c
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        if let Some(rest) = line.trim().strip_prefix("test result: ") {
            let num = |word: &str| {
                rest.split(';')
                    .find_map(|p| {
                        p.trim()
                            .strip_suffix(word)
                            .and_then(|n| n.trim().rsplit(' ').next()?.parse::<u64>().ok())
                    })
                    .unwrap_or(0)
            };
            tally.passed += num(" passed");
            tally.failed += num(" failed");
            tally.ignored += num(" ignored");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn test() -> Result {
    let started = Instant::now();
    build_with(Needs::Everything)?;
    let mut tally = Tally::default();
    let chromedriver = which("chromedriver").ok_or("chromedriver is not on PATH")?;
    // Native tests of every crate, including the end-to-end tests in tests/ (they start the
    // server on a free port, serving the release build, and drive headless Chromium).
    let native = cargo_test(
        cmd("cargo")
            .args(["test", "--workspace", "--no-fail-fast", "--color", "never"])
            .env("CHROMEDRIVER", &chromedriver)
            .env("DGBOT_TYPESCRIPT", typescript_package())
            .env("DGBOT_AXE", axe_package().join("axe.min.js"))
            .env(
                "DGBOT_SEED_CLIENTS",
                seed_clients_dir().join("node_modules"),
            ),
        &mut tally,
    );
    // The app's components rendered in headless Chromium (wasm-bindgen-test).
    let wasm = cargo_test(
        cmd("cargo")
            .args([
                "test",
                "-p",
                "dgbot",
                "--target",
                "wasm32-unknown-unknown",
                "--test",
                "wasm",
                "--color",
                "never",
            ])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                cargo_bin().join("wasm-bindgen-test-runner"),
            )
            .env("CHROMEDRIVER", &chromedriver)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
        &mut tally,
    );
    // The summary is the last line, so CI reads it (errors, if any, were printed above).
    if let Err(e) = native.as_ref().and(wasm.as_ref()) {
        eprintln!("xtask: {e}");
    }
    eprintln!("xtask: test finished in {:.0?}", started.elapsed());
    println!(
        "{} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.ignored
    );
    native.and(wasm).map_err(|_| "tests failed".to_owned())
}

fn screenshot() -> Result {
    build_with(Needs::Everything)?;
    let chromedriver = which("chromedriver").ok_or("chromedriver is not on PATH")?;
    run(cmd("cargo")
        .args([
            "test",
            "--test",
            "e2e",
            "readme_screenshot",
            "--",
            "--ignored",
            "--exact",
        ])
        .env("CHROMEDRIVER", chromedriver))?;
    eprintln!("screenshot: wrote docs/screenshot.png");
    Ok(())
}

fn bench() -> Result {
    build_with(Needs::Everything)?;
    let chromedriver = which("chromedriver").ok_or("chromedriver is not on PATH")?;
    run(cmd("cargo")
        .args([
            "test",
            "--release",
            "--test",
            "bench",
            "--",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CHROMEDRIVER", chromedriver))
}

/// N concurrent SSE conversations against the release server (server/tests/load.rs).
fn bench_server(streams: &str) -> Result {
    let n: u32 = streams
        .parse()
        .map_err(|_| format!("bench-server takes a number of streams, not {streams:?}"))?;
    run(cmd("cargo")
        .args([
            "test",
            "--release",
            "-p",
            "dgbot-server",
            "--test",
            "load",
            "--test",
            "load_webchatagent",
            "--test",
            "load_dosti",
            "--",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DGBOT_LOAD_STREAMS", n.to_string())
        .env(
            "DGBOT_SEED_CLIENTS",
            seed_clients_dir().join("node_modules"),
        )
        .env("DGBOT_PYTHONPATH", python_dir()))
}

/// Each cargo-fuzz target of `protocol/fuzz/` for `seconds`, from its seeds: the SSE parser
/// and transcript reducer (`seed.sse`), and every other decoder of the protocol crate (livechat,
/// webhooks, the bridge, messages, forms, the URL allow-lists; `seeds/wire_types/`).
fn fuzz(seconds: &str) -> Result {
    let seconds: u32 = seconds
        .parse()
        .map_err(|_| format!("fuzz takes a number of seconds, not {seconds:?}"))?;
    if output_of(Command::new(cargo_bin().join("cargo-fuzz")).arg("--version")).is_none() {
        eprintln!("setup: installing cargo-fuzz");
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let dir = root().join("protocol/fuzz");
    let seeds = |target: &str| -> std::io::Result<Vec<PathBuf>> {
        if target == "sse_and_reducer" {
            return Ok(vec![dir.join("seed.sse")]);
        }
        std::fs::read_dir(dir.join("seeds").join(target))?
            .map(|e| e.map(|e| e.path()))
            .collect()
    };
    for target in ["sse_and_reducer", "wire_types"] {
        let corpus = dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
        for seed in seeds(target).map_err(|e| format!("{target} seeds: {e}"))? {
            let name = seed.file_name().ok_or("a seed file")?;
            std::fs::copy(&seed, corpus.join(name)).map_err(|e| e.to_string())?;
        }
        // cargo-fuzz passes nightly-only flags; RUSTC_BOOTSTRAP lets this stable toolchain take
        // them. No sanitizer (-s none): the stable toolchain ships no sanitizer runtimes.
        run(cmd("cargo")
            .current_dir(root().join("protocol"))
            .env("RUSTC_BOOTSTRAP", "1")
            .args([
                "fuzz",
                "run",
                target,
                "-s",
                "none",
                "--",
                &format!("-max_total_time={seconds}"),
            ]))?;
    }
    Ok(())
}

fn which(program: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
