//! Every fuzzing entry point over its seed corpus (`fuzz/corpus/<name>/`, the inputs the
//! repository's cargo-fuzz targets start from) and over edge inputs: none panics, so the
//! properties they assert hold on the seeds, and every fuzz target has its entry point.

use std::path::PathBuf;

use idforge_testing::fuzzing::{entry_point, TARGETS};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

#[test]
fn every_entry_point_runs_its_seed_corpus() {
    let mut total = 0;
    for (name, entry) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("entry").path())
            .collect();
        seeds.sort();
        assert!(!seeds.is_empty(), "{name} has no seeds");
        for seed in seeds {
            let data = std::fs::read(&seed).expect("seed");
            entry(&data);
            total += 1;
        }
    }
    assert!(total >= TARGETS.len());
}

#[test]
fn edge_inputs_never_panic() {
    let inputs: [&[u8]; 8] = [
        b"",
        b"\n",
        b"\0",
        b"\xff\xfe",
        b"{}",
        b"a.b.c",
        b"~~~",
        b"<a/>",
    ];
    for (_, entry) in TARGETS {
        for data in inputs {
            entry(data);
        }
    }
}

/// The repository's fuzz targets and the entry points are the same set: each
/// `fuzz/Cargo.toml` `[[bin]]` has an entry point of its name and calls it.
#[test]
fn every_fuzz_target_calls_its_entry_point() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("manifest");
    let bins: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "idforge-fuzz")
        // docs/fuzzing.md's user target (idforge-testing's `fuzz_user_target` example).
        .filter(|n| *n != "user_example_token_client")
        .collect();
    assert_eq!(bins.len(), TARGETS.len(), "{bins:?}");
    for bin in bins {
        assert!(entry_point(bin).is_some(), "no entry point for {bin}");
        let src = std::fs::read_to_string(fuzz_dir().join(format!("fuzz_targets/{bin}.rs")))
            .expect("target source");
        assert!(
            src.contains(&format!("fuzzing::{bin}(")),
            "fuzz target {bin} does not call idforge_testing::fuzzing::{bin}"
        );
    }
}

/// docs/fuzzing.md shows the complete user fuzz target exactly as compiled (the example that
/// `fuzz/Cargo.toml` also builds as the `user_example_token_client` target).
#[test]
fn the_documented_user_target_is_the_compiled_one() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("../../docs/fuzzing.md")).expect("guide");
    let target =
        std::fs::read_to_string(root.join("examples/fuzz_user_target.rs")).expect("example");
    assert!(
        doc.contains(target.trim_end()),
        "docs/fuzzing.md is out of date"
    );
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("manifest");
    assert!(manifest.contains("path = \"../crates/testing/examples/fuzz_user_target.rs\""));
}
