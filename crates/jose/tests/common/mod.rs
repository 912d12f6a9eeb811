//! Shared helpers for the conformance tests: locating `../shared/vectors`.
//!
//! Contract (see `../shared/vectors/README.md`): the vectors live in `../shared/vectors` relative
//! to the workspace root, or wherever `$IDFORGE_VECTORS` points. When they are absent a test
//! prints one `skipped:` line and passes, unless `IDFORGE_VECTORS=require` (set by `.ci/run`),
//! in which case absence is a failure.
//!
//! Other crates' tests may copy this file verbatim (it depends on nothing but `std` and
//! `serde_json`); keep the copies in sync.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The environment variable naming the vectors folder, or `require`.
pub(crate) const VECTORS_ENV: &str = "IDFORGE_VECTORS";

/// Where the vectors folder would be, and whether its absence is fatal.
fn locate() -> (PathBuf, bool) {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors");
    match std::env::var(VECTORS_ENV) {
        Ok(v) if v == "require" => (default, true),
        Ok(v) if !v.trim().is_empty() => (PathBuf::from(v), false),
        _ => (default, false),
    }
}

/// The vectors folder, or `None` (after printing a skip line for `test`) when absent.
///
/// Panics when the folder is absent and `IDFORGE_VECTORS=require`.
pub(crate) fn vectors_dir(test: &str) -> Option<PathBuf> {
    let (dir, required) = locate();
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !required,
        "{test}: test vectors not found at {} and {VECTORS_ENV}=require",
        dir.display()
    );
    eprintln!(
        "skipped: {test}: test vectors not found at {} (set {VECTORS_ENV} to their folder)",
        dir.display()
    );
    None
}

/// A sub-folder or file of the vectors, or `None` (after a skip line) when the vectors are
/// absent. A missing sub-path inside a present vectors folder is always a failure.
pub(crate) fn vector_path(test: &str, rel: &str) -> Option<PathBuf> {
    let path = vectors_dir(test)?.join(rel);
    assert!(path.exists(), "{test}: {} is missing", path.display());
    Some(path)
}

/// Reads and parses a JSON file.
pub(crate) fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The `*.json` files of a folder, sorted by name.
pub(crate) fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}
