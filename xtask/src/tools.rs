//! Paths, commands and the helpers every command uses: where the tools live, `cmd`/`run`,
//! npm and apt installs, `which`.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Result;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub fn cargo_bin() -> PathBuf {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    home.join("bin")
}

pub fn binaryen_dir() -> PathBuf {
    root().join("target/tools/binaryen")
}

pub fn wasm_opt_bin() -> PathBuf {
    binaryen_dir().join("node_modules/binaryen/bin")
}

pub fn terser_dir() -> PathBuf {
    root().join("target/tools/terser")
}

pub fn typescript_dir() -> PathBuf {
    root().join("target/tools/typescript")
}

pub fn typescript_package() -> PathBuf {
    typescript_dir().join("node_modules/typescript")
}

/// The seeds' own client libraries (npm), for the tests that run the seeds' examples.
pub fn seed_clients_dir() -> PathBuf {
    root().join("target/tools/seed-clients")
}

/// axe-core's browser script (`axe.min.js`), injected by tests/a11y_e2e.rs.
pub fn axe_package() -> PathBuf {
    root().join("target/tools/axe/node_modules/axe-core")
}

/// Python packages for the seeds' Python examples (`PYTHONPATH` in the tests).
pub fn python_dir() -> PathBuf {
    root().join("target/tools/python")
}

pub fn terser_bin() -> PathBuf {
    terser_dir().join("node_modules/terser/bin/terser")
}

/// `npm install --prefix dir package@version` (npm comes with Node; installed if missing).
pub fn npm_install(dir: &Path, package: &str) -> Result {
    npm_install_all(dir, &[package])
}

/// `npm install` of several packages at once into one folder (an install prunes what it does
/// not name, so packages that share a folder are installed together).
pub fn npm_install_all(dir: &Path, packages: &[&str]) -> Result {
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
pub fn tool_path() -> OsString {
    let mut paths = vec![wasm_opt_bin(), cargo_bin()];
    paths.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
    env::join_paths(paths).expect("valid PATH")
}

/// Forget the variables `cargo run` set for xtask itself (CARGO_PKG_NAME=xtask, …), so that
/// the commands it starts see the environment a shell would give them: build scripts that
/// watch these variables (ring's does, with `rerun-if-env-changed`) would otherwise rerun, and
/// every crate above them be rebuilt, each time cargo alternates between xtask and a shell.
pub fn forget_cargo_run_env() {
    for (name, _) in env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || matches!(
                &*name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
            )
        {
            // SAFETY: called first thing in `main`, while xtask has no other thread.
            unsafe { env::remove_var(&*name) };
        }
    }
}

pub fn cmd(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    c.current_dir(root()).env("PATH", tool_path());
    c
}

/// `--dry-run` (or `XTASK_DRY_RUN=1`): print the commands that change something instead of
/// running them (the checks of what is installed still run).
static DRY_RUN: AtomicBool = AtomicBool::new(false);

pub fn set_dry_run() {
    DRY_RUN.store(true, Ordering::Relaxed);
}

pub fn dry_run() -> bool {
    DRY_RUN.load(Ordering::Relaxed)
        || env::var("XTASK_DRY_RUN").is_ok_and(|v| !v.is_empty() && v != "0")
}

pub fn run(c: &mut Command) -> Result {
    let shown = format!("{c:?}");
    if dry_run() {
        eprintln!("dry run: {shown}");
        return Ok(());
    }
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
pub fn output_of(c: &mut Command) -> Option<String> {
    let out = c.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn apt_install(packages: &[&str]) -> Result {
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

pub fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"")
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err(format!("{package} is not in Cargo.lock"))
}

pub fn which(program: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
