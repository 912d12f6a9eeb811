//! Shared by the interop tests: where the peers live, skipping only when allowed, an `idforge
//! serve` process (stopped when dropped, also when the test panics), and a Node.js script whose
//! stdout is one JSON report.
#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// `$IDFORGE_PEERS_DIR`, or `target/peers` (where the `.ci/*.sh` installers put them).
pub(crate) fn peers_dir() -> PathBuf {
    std::env::var_os("IDFORGE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/peers"))
        })
}

/// The peers' `node` directory.
pub(crate) fn node_dir() -> PathBuf {
    peers_dir().join("node")
}

/// The first of `packages` (npm names, under the peers' `node_modules`) that is missing, or
/// `node` itself.
pub(crate) fn missing_npm(packages: &[&str]) -> Option<String> {
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node".into());
    }
    packages
        .iter()
        .find(|p| {
            !node_dir()
                .join("node_modules")
                .join(p)
                .join("package.json")
                .exists()
        })
        .map(|p| (*p).to_owned())
}

/// `true` when nothing is missing. Otherwise prints a SKIP line naming `install` and returns
/// `false`, or panics when CI requires the peers (`IDFORGE_INTEROP=require`).
pub(crate) fn peers_ready(test: &str, missing: Option<String>, install: &str) -> bool {
    let Some(what) = missing else {
        return true;
    };
    if std::env::var("IDFORGE_INTEROP").is_ok_and(|v| v == "require") {
        panic!("{test}: {what} is not installed (IDFORGE_INTEROP=require; run {install})");
    }
    eprintln!("SKIP {test}: {what} not installed; run {install}");
    false
}

/// A running `idforge serve` on a loopback port; killed when dropped.
pub(crate) struct Serve {
    child: Child,
    /// The issuer it printed.
    pub(crate) issuer: String,
    config: Option<PathBuf>,
}

impl Serve {
    /// Starts `idforge serve` with `config` (TOML written to a scratch file named after `name`)
    /// or the built-in demo configuration, and waits for its `issuer:` line.
    pub(crate) fn start(name: &str, config: Option<&str>) -> Serve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_idforge"));
        // In memory: no database lands in the checkout.
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--database", "memory"]);
        let config_path = config.map(|text| {
            let path =
                std::env::temp_dir().join(format!("idforge-{name}-{}.toml", std::process::id()));
            std::fs::write(&path, text).unwrap();
            path
        });
        if let Some(p) = &config_path {
            cmd.arg("--config").arg(p);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let issuer = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("issuer: ").map(str::to_owned))
            .unwrap();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Serve {
            child,
            issuer,
            config: config_path,
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(p) = &self.config {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Writes `source` beside the peers' `node_modules` (so its imports resolve there) as `name` and
/// returns its path.
pub(crate) fn node_script(name: &str, source: &str) -> PathBuf {
    let path = node_dir().join(name);
    std::fs::write(&path, source).unwrap();
    path
}

/// Runs `node script args...`.
pub(crate) fn node(script: &Path, args: &[&str]) -> Output {
    Command::new("node")
        .arg(script)
        .args(args)
        .output()
        .unwrap()
}

/// Runs `node script args...`, asserts it succeeded, and parses its stdout as one JSON value.
pub(crate) fn node_report(what: &str, script: &Path, args: &[&str]) -> serde_json::Value {
    let out = node(script, args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap()
}
