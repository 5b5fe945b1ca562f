//! `cargo xtask sizes`: the gzipped (and Brotli) sizes of the loader and the built widget,
//! checked against their budgets.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::build::BROTLI_JS;
use crate::tools::*;

/// Brotli 11 of `path`: the length of the build's copy (`{path}.br`, made by the same
/// [`BROTLI_JS`]) when it is at least as new as the file, else compressed now.
pub fn brotli_len(path: &Path) -> Result<u64> {
    let mut br = path.as_os_str().to_owned();
    br.push(".br");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(file), Some(copy)) = (modified(path), modified(Path::new(&br)))
        && copy >= file
    {
        return std::fs::metadata(&br)
            .map(|m| m.len())
            .map_err(|e| e.to_string());
    }
    let out = output_of(Command::new("node").args(["-e", BROTLI_JS]).arg(path))
        .ok_or("node could not compress")?;
    out.parse().map_err(|_| format!("brotli length: {out}"))
}

pub fn gzipped_len(path: &Path) -> Result<u64> {
    gzip_len(path, true)
}

/// `gzip -9` of `path`; `no_name`: without the file name in the header (`-n`).
pub fn gzip_len(path: &Path, no_name: bool) -> Result<u64> {
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
pub const WIDGET_BUDGET: u64 = 153_600;

pub fn sizes() -> Result {
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
