//! Rewrites of the main module and its JS glue after wasm-bindgen, before wasm-opt
//! (BENCHMARKS.md, "Bundle sizes"):
//!
//! - **Dead exports out.** Leptos' `csr` feature always turns on server_fn's `browser` feature,
//!   which brings wasm-streams, whose `#[wasm_bindgen]` classes (`IntoUnderlyingSource`,
//!   `IntoUnderlyingSink`, `IntoUnderlyingByteSource`) are exports: roots that no optimiser may
//!   remove, though the widget never makes a Rust stream into a JS one. Their exports leave the
//!   module and their classes leave the glue; wasm-opt then drops the code behind them.
//! - **Short names** for the closure trampolines' exports (whole mangled paths) and for the
//!   imports: wasm-bindgen names each import `__wbg_<name>_<16 hex digits>`, in the module's
//!   import section and again as a key of the glue's import object: 170 names, 8 KB of the
//!   module, mostly incompressible hash digits. They become `a`, `b`, … `aa`, in both places
//!   at once.
//!
//! The wasm format's sections are walked by hand (LEB128 sizes; only the import and export
//! sections are rewritten, byte for byte otherwise). Any surprise in the glue (a name not found
//! exactly once) fails the build rather than shipping a glue that no longer matches the module.

/// The classes (and their exports' prefix) that the widget never uses.
const DEAD_CLASSES: [(&str, &str); 3] = [
    ("IntoUnderlyingByteSource", "intounderlyingbytesource_"),
    ("IntoUnderlyingSink", "intounderlyingsink_"),
    ("IntoUnderlyingSource", "intounderlyingsource_"),
];

fn leb(b: &[u8], i: &mut usize) -> Result<u32, String> {
    let (mut r, mut shift) = (0u32, 0);
    loop {
        let x = *b.get(*i).ok_or("wasm: truncated LEB128")?;
        *i += 1;
        r |= u32::from(x & 0x7f) << shift;
        if x < 0x80 {
            return Ok(r);
        }
        shift += 7;
    }
}

fn put_leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let x = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(x);
            return;
        }
        out.push(x | 0x80);
    }
}

fn name<'a>(b: &'a [u8], i: &mut usize) -> Result<&'a str, String> {
    let len = leb(b, i)? as usize;
    let s = b.get(*i..*i + len).ok_or("wasm: truncated name")?;
    *i += len;
    std::str::from_utf8(s).map_err(|e| e.to_string())
}

fn put_name(out: &mut Vec<u8>, s: &str) {
    put_leb(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

/// The bytes of an import's or export's description after its names (kind and index/type).
fn skip_desc(b: &[u8], i: &mut usize, import: bool) -> Result<(), String> {
    let kind = b[*i];
    *i += 1;
    if !import {
        leb(b, i)?;
        return Ok(());
    }
    match kind {
        0 => {
            leb(b, i)?;
        }
        1 => {
            *i += 1; // reference type
            let flags = leb(b, i)?;
            leb(b, i)?;
            if flags & 1 == 1 {
                leb(b, i)?;
            }
        }
        2 => {
            let flags = leb(b, i)?;
            leb(b, i)?;
            if flags & 1 == 1 {
                leb(b, i)?;
            }
        }
        3 => *i += 2,
        4 => {
            *i += 1;
            leb(b, i)?;
        }
        k => return Err(format!("wasm: unknown import kind {k}")),
    }
    Ok(())
}

/// A short, valid JS identifier for the `n`th import: a…z, A…Z, then two letters.
fn short_name(n: usize) -> String {
    const L: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut s = String::new();
    let mut n = n;
    loop {
        s.insert(0, L[n % L.len()] as char);
        if n < L.len() {
            return s;
        }
        n = n / L.len() - 1;
    }
}

/// Rewrites `wasm` and `glue` (wasm-bindgen's `--target web` output) as the module doc says.
pub fn trim(wasm: &[u8], glue: &str) -> Result<(Vec<u8>, String), String> {
    if wasm.get(..8) != Some(b"\0asm\x01\0\0\0") {
        return Err("wasm: not a wasm module".into());
    }
    let mut glue = glue.to_owned();
    let mut out = wasm[..8].to_vec();
    let mut i = 8;
    while i < wasm.len() {
        let id = wasm[i];
        i += 1;
        let size = leb(wasm, &mut i)? as usize;
        let body = &wasm[i..i + size];
        i += size;
        let new_body = match id {
            2 => Some(rename_imports(body, &mut glue)?),
            7 => Some(rewrite_exports(body, &mut glue)?),
            _ => None,
        };
        out.push(id);
        match new_body {
            Some(b) => {
                put_leb(&mut out, b.len() as u32);
                out.extend_from_slice(&b);
            }
            None => {
                put_leb(&mut out, size as u32);
                out.extend_from_slice(body);
            }
        }
    }
    for (class, _) in DEAD_CLASSES {
        glue = drop_class(&glue, class)?;
    }
    Ok((out, glue))
}

fn rename_imports(body: &[u8], glue: &mut String) -> Result<Vec<u8>, String> {
    const MODULE: &str = "./dgbot_bg.js";
    let key = format!("\"{MODULE}\": import0");
    replace_once(glue, &key, "w: import0")?;
    let mut i = 0;
    let count = leb(body, &mut i)?;
    let mut out = Vec::with_capacity(body.len());
    put_leb(&mut out, count);
    let mut renamed = 0;
    for _ in 0..count {
        let module = name(body, &mut i)?;
        let field = name(body, &mut i)?;
        let start = i;
        skip_desc(body, &mut i, true)?;
        if module == MODULE {
            let short = short_name(renamed);
            renamed += 1;
            replace_once(
                glue,
                &format!("\n        {field}: "),
                &format!("\n{short}: "),
            )?;
            put_name(&mut out, "w");
            put_name(&mut out, &short);
        } else {
            put_name(&mut out, module);
            put_name(&mut out, field);
        }
        out.extend_from_slice(&body[start..i]);
    }
    Ok(out)
}

/// The exports without wasm-streams' classes, and with short names for the closure
/// trampolines, whose names are whole mangled Rust paths (`_R…`, 100–160 bytes each).
fn rewrite_exports(body: &[u8], glue: &mut String) -> Result<Vec<u8>, String> {
    let mut i = 0;
    let count = leb(body, &mut i)?;
    let mut kept = Vec::new();
    let mut n = 0;
    let mut renamed = 0;
    for _ in 0..count {
        let field = name(body, &mut i)?;
        let start = i;
        skip_desc(body, &mut i, false)?;
        let dead = DEAD_CLASSES.iter().any(|(_, prefix)| {
            field.starts_with(prefix)
                || field
                    .strip_prefix("__wbg_")
                    .is_some_and(|f| f.starts_with(prefix.trim_end_matches('_')))
        });
        if dead {
            continue;
        }
        if field.starts_with("_R") {
            let short = format!("r{renamed}");
            renamed += 1;
            replace_once(glue, &format!("wasm.{field}("), &format!("wasm.{short}("))?;
            put_name(&mut kept, &short);
        } else {
            put_name(&mut kept, field);
        }
        kept.extend_from_slice(&body[start..i]);
        n += 1;
    }
    if n == count {
        return Err("wasm: wasm-streams' exports not found (has server_fn changed?)".into());
    }
    let mut out = Vec::with_capacity(kept.len() + 5);
    put_leb(&mut out, n);
    out.extend_from_slice(&kept);
    Ok(out)
}

/// The glue without `export class {class} {…}`, its `Symbol.dispose` line and its
/// `FinalizationRegistry`.
fn drop_class(glue: &str, class: &str) -> Result<String, String> {
    let start = find_once(glue, &format!("export class {class} {{\n"))?;
    let dispose = format!(
        "if (Symbol.dispose) {class}.prototype[Symbol.dispose] = {class}.prototype.free;\n"
    );
    let end = find_once(glue, &dispose)? + dispose.len();
    if end < start {
        return Err(format!("glue: {class}'s parts out of order"));
    }
    let glue = format!("{}{}", &glue[..start], &glue[end..]);
    let registry = find_once(&glue, &format!("const {class}Finalization = "))?;
    let registry_end = registry
        + glue[registry..]
            .find(");\n")
            .ok_or_else(|| format!("glue: {class}Finalization has no end"))?
        + 3;
    Ok(format!("{}{}", &glue[..registry], &glue[registry_end..]))
}

fn find_once(haystack: &str, needle: &str) -> Result<usize, String> {
    let mut found = haystack.match_indices(needle);
    match (found.next(), found.next()) {
        (Some((at, _)), None) => Ok(at),
        (None, _) => Err(format!("glue: {needle:?} not found")),
        _ => Err(format!("glue: {needle:?} found more than once")),
    }
}

fn replace_once(haystack: &mut String, needle: &str, with: &str) -> Result<(), String> {
    let at = find_once(haystack, needle)?;
    haystack.replace_range(at..at + needle.len(), with);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_distinct_identifiers() {
        let names: Vec<_> = (0..3000).map(short_name).collect();
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert_eq!(
            (names[0].as_str(), names[51].as_str(), names[52].as_str()),
            ("a", "Z", "aa")
        );
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_alphabetic()))
        );
    }

    #[test]
    fn leb128_round_trips() {
        for v in [0, 1, 127, 128, 300, 16_384, u32::MAX] {
            let mut out = vec![];
            put_leb(&mut out, v);
            assert_eq!(leb(&out, &mut 0).unwrap(), v);
        }
    }
}
