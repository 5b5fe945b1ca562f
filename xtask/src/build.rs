//! `cargo xtask build`: the loader (terser), the iframe app (cargo, wasm-split, wasm-bindgen,
//! wasm_trim, wasm-opt, content hashes) into `dist/`, its precompressed copies, and the server.
//!
//! Every step after cargo's (which is incremental itself) is skipped while its inputs are
//! unchanged and its outputs are in place, as recorded in `target/xtask/*.stamp` ([`Stamp`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::setup::{BINARYEN_VERSION, Needs, TERSER_VERSION, WASM_SPLIT_VERSION, setup};
use crate::sizes::sizes;
use crate::tools::*;
use crate::{Result, wasm_trim};

pub fn build() -> Result {
    build_with(Needs::Build)
}

pub fn build_with(needs: Needs) -> Result {
    setup(needs)?;
    if dry_run() {
        eprintln!(
            "dry run: build the loader and the widget into dist/, precompressed (each when its \
             inputs changed){}, then print the sizes",
            if needs == Needs::Build {
                ", the release server"
            } else {
                ""
            }
        );
        return Ok(());
    }
    let started = Instant::now();
    minify_loader()?;
    build_widget()?;
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
///
/// After cargo, the rest (and [`precompress`]) runs only when [`widget_inputs`] changed or
/// `dist/` is not what the last run left there.
pub fn build_widget() -> Result {
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
    let dist = root().join("dist");
    let stamp = Stamp::new("widget", widget_inputs()?);
    if stamp.fresh(&files_in(&dist)) {
        eprintln!("build: dist/ is up to date (the wasm, index.html, style, worker and tools are)");
        return Ok(());
    }
    stamp.clear();
    split_bind_optimise()?;
    precompress(&dist)?;
    stamp.write(&files_in(&dist))
}

/// Everything [`build_widget`]'s steps after cargo read: the wasm cargo wrote, the page, the
/// style sheet, the stream worker, the tools' versions, and this file and wasm_trim.rs (the
/// flags, passes and names of the build).
fn widget_inputs() -> Result<Fnv> {
    let mut inputs = Fnv::default();
    inputs.write_part(include_str!("build.rs").as_bytes());
    inputs.write_part(include_str!("wasm_trim.rs").as_bytes());
    tool_versions(&mut inputs)?;
    for file in [
        "target/wasm32-unknown-unknown/wasm-release/dgbot.wasm",
        "index.html",
        "style/widget.css",
        "worker/sse-worker.js",
    ] {
        inputs.write_file(&root().join(file))?;
    }
    Ok(inputs)
}

/// The versions of the tools after cargo: [`crate::setup`] installs exactly these, except for
/// Node (terser and Brotli run on it) and gzip, which come from the system.
fn tool_versions(inputs: &mut Fnv) -> Result {
    for version in [
        WASM_SPLIT_VERSION,
        &locked_version("wasm-bindgen")?,
        BINARYEN_VERSION,
        TERSER_VERSION,
        &output_of(Command::new("node").arg("--version")).ok_or("node --version failed")?,
        &output_of(Command::new("gzip").arg("--version")).ok_or("gzip --version failed")?,
    ] {
        inputs.write_part(version.as_bytes());
    }
    Ok(())
}

/// The files in `dir` (not in its subfolders), sorted; none when it cannot be read.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// A step's record, `target/xtask/<name>.stamp`: a hash of everything the step reads, then the
/// hash, size and path of every file it wrote. The step is skipped while the record still
/// holds: the same inputs, and the same outputs, all present, none changed since.
struct Stamp {
    path: PathBuf,
    inputs: u64,
}

impl Stamp {
    fn new(name: &str, inputs: Fnv) -> Stamp {
        Stamp {
            path: root().join("target/xtask").join(format!("{name}.stamp")),
            inputs: inputs.0,
        }
    }

    fn record(&self, outputs: &[PathBuf]) -> Result<String> {
        let mut record = format!("inputs {:016x}\n", self.inputs);
        for output in outputs {
            let bytes = std::fs::read(output).map_err(|e| format!("{}: {e}", output.display()))?;
            let mut hash = Fnv::default();
            hash.write(&bytes);
            let name = output.strip_prefix(root()).unwrap_or(output);
            record += &format!("{:016x} {} {}\n", hash.0, bytes.len(), name.display());
        }
        Ok(record)
    }

    /// The step's inputs are those recorded, and `outputs` are the files it wrote, unchanged.
    fn fresh(&self, outputs: &[PathBuf]) -> bool {
        !outputs.is_empty()
            && std::fs::read_to_string(&self.path)
                .is_ok_and(|recorded| self.record(outputs).is_ok_and(|now| now == recorded))
    }

    /// Forget the record before the step runs, so that a step that fails half-way reruns.
    fn clear(&self) {
        let _ = std::fs::remove_file(&self.path);
    }

    fn write(&self, outputs: &[PathBuf]) -> Result {
        let record = self.record(outputs)?;
        let dir = self.path.parent().expect("target/xtask");
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::write(&self.path, record).map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

/// The steps after cargo: split, bind, trim, optimise, minify, name by content, into `dist/`.
fn split_bind_optimise() -> Result {
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
pub fn without_comments(html: &str) -> String {
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
pub struct Fnv(u64);

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

    /// `bytes` after their length, so that two inputs cannot run into one another.
    fn write_part(&mut self, bytes: &[u8]) {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }

    /// A file's path and content.
    fn write_file(&mut self, path: &Path) -> Result {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.write_part(path.to_string_lossy().as_bytes());
        self.write_part(&bytes);
        Ok(())
    }
}

/// The stylesheet without comments and with whitespace runs collapsed: no CSS tool needed
/// for a hand-written file with no strings or `url()`s that hold significant spaces.
pub fn minify_css(css: &str) -> String {
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
///
/// Skipped while the sources, terser, Node and this file are unchanged and the three outputs
/// are as this step left them.
pub fn minify_loader() -> Result {
    let outputs = [
        "loader/widget.js",
        "loader/chatbotinline.js",
        "loader/searchbar.js",
    ]
    .map(|output| root().join(output));
    let mut inputs = Fnv::default();
    inputs.write_part(include_str!("build.rs").as_bytes());
    inputs.write_part(TERSER_VERSION.as_bytes());
    inputs.write_part(
        output_of(Command::new("node").arg("--version"))
            .ok_or("node --version failed")?
            .as_bytes(),
    );
    for source in ["loader/src/widget.js", "loader/src/searchbar.js"] {
        inputs.write_file(&root().join(source))?;
    }
    let stamp = Stamp::new("loader", inputs);
    if stamp.fresh(&outputs) {
        eprintln!("build: loader/ is up to date");
        return Ok(());
    }
    stamp.clear();
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
    stamp.write(&outputs)
}

/// gzip -9 every text and wasm file in dist/, so the server sends precompressed bytes.
/// Node's zlib: Brotli at quality 11 (what on-the-fly compression cannot afford), to
/// `{file}.br`, or with no output path the compressed length on stdout.
pub const BROTLI_JS: &str = "const z=require('zlib'),fs=require('fs');\
const b=z.brotliCompressSync(fs.readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11,[z.constants.BROTLI_PARAM_SIZE_HINT]:fs.statSync(process.argv[1]).size}});\
process.argv[2]?fs.writeFileSync(process.argv[2],b):process.stdout.write(String(b.length));";

/// gzip -9 and Brotli 11 copies of every text and wasm file in dist/, which the server sends
/// to clients that accept them (Brotli first).
pub fn precompress(dist: &Path) -> Result {
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
