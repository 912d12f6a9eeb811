//! Shared helpers for the conformance tests: finding `../shared/vectors`, decoding helpers.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use idforge_jose::{Key, KeySet};
use idforge_jwe::{ContentEncryption, JwePolicy, KeyManagementAlgorithm};
use serde_json::Value;

/// The shared vectors folder: `$IDFORGE_VECTORS` when it names a folder, else
/// `../shared/vectors` relative to the workspace root. `None` (after printing that the test is
/// skipped) when absent, unless `IDFORGE_VECTORS=require`, which makes absence a failure.
pub(crate) fn vectors(sub: &str) -> Option<PathBuf> {
    let env = std::env::var("IDFORGE_VECTORS").ok();
    let root = match env.as_deref() {
        Some(p) if p != "require" && !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
    };
    let dir = root.join(sub);
    if dir.exists() {
        return Some(dir);
    }
    assert!(
        env.as_deref() != Some("require"),
        "IDFORGE_VECTORS=require but {} is absent",
        dir.display()
    );
    println!("skipped: test vectors not found at {}", dir.display());
    None
}

pub(crate) fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

pub(crate) fn b64(s: &str) -> Vec<u8> {
    idforge_jose::b64::decode(s, "test").unwrap()
}

pub(crate) fn key(v: &Value) -> Key {
    Key::from_json(&v.to_string()).unwrap()
}

pub(crate) fn keyset(keys: Vec<Key>) -> KeySet {
    KeySet::new(keys)
}

/// A policy allowing every algorithm and encryption (the tests check allow-lists separately).
pub(crate) fn allow_all() -> JwePolicy {
    JwePolicy::new(KeyManagementAlgorithm::ALL, ContentEncryption::ALL)
}

/// A policy allowing what fits `key`, like the CLI's default, and every `enc`.
pub(crate) fn fitting(key: &Key) -> JwePolicy {
    JwePolicy::new(KeyManagementAlgorithm::fitting(key), ContentEncryption::ALL)
}
