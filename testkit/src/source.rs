//! Reading the project's Rust sources as text, for tests that check rules the compiler cannot
//! see (the layers' import rules: `server/tests/layers.rs`, `tests/widget_layers.rs`).

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, sorted.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code of a file without its comments (line comments and doc comments).
pub fn code(path: &Path) -> String {
    without_comments(&std::fs::read_to_string(path).unwrap())
}

pub fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        // Cut at the first `//` outside a string literal (a URL in a string is code).
        let (mut in_string, mut escaped, mut prev) = (false, false, ' ');
        let mut end = line.len();
        for (at, c) in line.char_indices() {
            match c {
                '\\' if in_string => escaped = !escaped,
                '"' if !escaped => in_string = !in_string,
                '/' if !in_string && prev == '/' => {
                    end = at - 1;
                    break;
                }
                _ => escaped = false,
            }
            if c != '\\' {
                escaped = false;
            }
            prev = c;
        }
        out.push_str(&line[..end]);
        out.push('\n');
    }
    out
}
