//! The crate's modules import each other without cycles (decision 0010): reads every
//! `use crate::...` and `crate::...` path in `src/`, maps it to the module it names, and checks
//! the graph is acyclic. A child's `pub use` from its parent (`grant` re-exporting
//! `grant::password`) is containment, not an import, and is not counted.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `src/endpoint/authorize.rs` -> `endpoint::authorize`; `src/grant/mod.rs` -> `grant`.
fn module_of(path: &Path, src: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod" && p != "lib")
        .collect();
    parts.join("::")
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every `crate::a::b...` path in `text`, outside comments.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let tail = &rest[i + "crate::".len()..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            out.push(tail[..end].trim_end_matches(':').to_owned());
            rest = &tail[end..];
        }
    }
    out
}

#[test]
fn oauth_core_modules_have_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    files(&src, &mut paths);
    let modules: BTreeSet<String> = paths.iter().map(|p| module_of(p, &src)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &paths {
        let from = module_of(p, &src);
        let text = std::fs::read_to_string(p).unwrap();
        // Unit tests may reach anywhere; they are not part of the layering.
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for path in crate_paths(text) {
            // The longest module prefix of the path is the module it imports from.
            let segs: Vec<&str> = path.split("::").collect();
            let target = (1..=segs.len())
                .rev()
                .map(|n| segs[..n].join("::"))
                .find(|m| modules.contains(m));
            let Some(to) = target else { continue };
            let containment = to.starts_with(&format!("{from}::")) || from.is_empty();
            if to != from && !containment {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) {
        match state.get(m) {
            Some(2) => return,
            Some(1) => {
                let start = stack.iter().position(|s| s == m).unwrap();
                panic!("import cycle: {} -> {m}", stack[start..].join(" -> "));
            }
            _ => {}
        }
        state.insert(m.to_owned(), 1);
        stack.push(m.to_owned());
        for next in edges.get(m).into_iter().flatten() {
            visit(next, edges, state, stack);
        }
        stack.pop();
        state.insert(m.to_owned(), 2);
    }
    let mut state = BTreeMap::new();
    for m in &modules {
        visit(m, &edges, &mut state, &mut Vec::new());
    }
    // The layering the architecture page documents: nothing below the endpoints imports them.
    for (from, tos) in &edges {
        if !from.starts_with("endpoint")
            && !["provider", "http", "memory", "testkit"].contains(&from.as_str())
        {
            for to in tos {
                assert!(
                    !to.starts_with("endpoint") && to != "provider" && to != "http",
                    "{from} (below the endpoints) imports {to}"
                );
            }
        }
    }
    assert!(edges.len() > 10, "the scan found the imports: {edges:?}");
}
