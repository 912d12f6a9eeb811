//! Shared helpers for the integration tests: locating `../shared/vectors` and interop peers.
#![allow(dead_code, unreachable_pub)]

pub mod saml;

use std::path::PathBuf;

/// The xmldsig vectors folder, or `None` (after printing a skip line) when absent; with
/// `IDFORGE_VECTORS=require` absence panics.
pub fn xmldsig_vectors(test: &str) -> Option<PathBuf> {
    let env = std::env::var("IDFORGE_VECTORS").ok();
    let base = match env.as_deref() {
        Some(v) if !v.is_empty() && v != "require" => PathBuf::from(v),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
    };
    let dir = base.join("xmldsig");
    if dir.is_dir() {
        return Some(dir);
    }
    if env.as_deref() == Some("require") {
        panic!(
            "{test}: IDFORGE_VECTORS=require but {} is missing",
            dir.display()
        );
    }
    println!(
        "SKIP {test}: {} not found (set IDFORGE_VECTORS)",
        dir.display()
    );
    None
}
