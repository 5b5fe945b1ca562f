//! `cargo xtask demo`: build, then run the release server.

use std::env;

use crate::Result;
use crate::build::build;
use crate::tools::*;

pub fn demo() -> Result {
    build()?;
    let server = root().join("target/release/dgbot-server");
    run(cmd(server).env("RUST_LOG", env::var("RUST_LOG").unwrap_or_default()))
}
