//! `cargo xtask screenshot`: retake docs/screenshot.png.

use crate::Result;
use crate::build::build_with;
use crate::setup::Needs;
use crate::tools::*;

pub fn screenshot() -> Result {
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
