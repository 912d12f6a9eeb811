//! Finding and driving the peer processes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use idforge_jose::{b64, Jwk};
use serde_json::{json, Value};

/// `IDFORGE_INTEROP=require`: a missing peer fails the test instead of skipping it.
const REQUIRE_ENV: &str = "IDFORGE_INTEROP";
/// Where `.ci/interop.sh` installs the peers; default `target/peers` in the workspace.
const PEERS_ENV: &str = "IDFORGE_PEERS_DIR";

/// Which peer implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// npm `jose` v6 on Node.js.
    NpmJose,
    /// Python `jwcrypto`.
    Jwcrypto,
}

/// A runnable peer.
pub(crate) struct Peer {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    program: String,
    args: Vec<String>,
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn peers_dir() -> PathBuf {
    std::env::var_os(PEERS_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/peers"))
}

fn script(name: &str) -> String {
    workspace()
        .join("tests/interop/peers")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn runs(program: &str, arg: &str) -> Option<String> {
    let out = Command::new(program).arg(arg).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Skips (returns `None`) or, under `IDFORGE_INTEROP=require`, fails with `reason`.
fn absent(test: &str, reason: String) -> Option<Peer> {
    let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "require");
    assert!(
        !required,
        "{test}: {reason} ({REQUIRE_ENV}=require; run .ci/interop.sh)"
    );
    eprintln!("skipped: {test}: {reason} (run .ci/interop.sh to install the peers)");
    None
}

fn version_of(package_json: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package_json).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["version"].as_str().map(str::to_owned)
}

/// npm `jose` v6, if Node.js and the package are installed.
pub(crate) fn npm_jose(test: &str) -> Option<Peer> {
    let Some(node) = runs("node", "--version") else {
        return absent(test, "node is not installed".into());
    };
    let package = peers_dir().join("node/node_modules/jose");
    let Some(version) = version_of(&package.join("package.json")) else {
        return absent(test, format!("npm jose not found in {}", package.display()));
    };
    if !version.starts_with("6.") {
        return absent(test, format!("npm jose {version} found, v6 needed"));
    }
    let index = package.join("dist/webapi/index.js");
    Some(Peer {
        kind: Kind::NpmJose,
        name: format!("npm jose {version} (node {node})"),
        program: "node".into(),
        args: vec![
            script("jose_peer.mjs"),
            index.to_string_lossy().into_owned(),
        ],
    })
}

/// Python `jwcrypto`, if Python 3 and the package are installed.
pub(crate) fn jwcrypto(test: &str) -> Option<Peer> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    if runs(&python, "--version").is_none() {
        return absent(test, format!("{python} is not installed"));
    }
    let dir = peers_dir().join("python");
    let Some(dist) = std::fs::read_dir(&dir).ok().and_then(|entries| {
        entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.starts_with("jwcrypto-") && n.ends_with(".dist-info"))
    }) else {
        return absent(test, format!("jwcrypto not found in {}", dir.display()));
    };
    let version = dist
        .trim_start_matches("jwcrypto-")
        .trim_end_matches(".dist-info")
        .to_owned();
    Some(Peer {
        kind: Kind::Jwcrypto,
        name: format!("jwcrypto {version}"),
        program: python,
        args: vec![
            script("jwcrypto_peer.py"),
            dir.to_string_lossy().into_owned(),
        ],
    })
}

/// Both peers that are present (each absence reported or, when required, fatal).
pub(crate) fn all(test: &str) -> Vec<Peer> {
    [npm_jose(test), jwcrypto(test)]
        .into_iter()
        .flatten()
        .collect()
}

impl Peer {
    /// Runs one batch of operations in one process; one result per op, in order.
    pub(crate) fn run(&self, ops: &[Value]) -> Vec<Value> {
        if ops.is_empty() {
            return Vec::new();
        }
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: cannot start {}: {e}", self.name, self.program));
        let input = json!({ "ops": ops }).to_string();
        // The peers read all of stdin before writing anything, so this cannot deadlock.
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("{}: writing the batch: {e}", self.name));
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        assert!(
            out.status.success(),
            "{} failed ({}): {}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let reply: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: output is not JSON ({e}): {}",
                self.name,
                String::from_utf8_lossy(&out.stdout)
            )
        });
        let results = reply["results"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no results array", self.name))
            .clone();
        assert_eq!(results.len(), ops.len(), "{}: one result per op", self.name);
        results
    }
}

/// The JWK as the JSON value a peer expects.
pub(crate) fn jwk_value(jwk: &Jwk) -> Value {
    jwk.to_value()
}

/// The result's string member `name`, or the peer's error.
pub(crate) fn ok_str<'a>(result: &'a Value, name: &str) -> Result<&'a str, String> {
    if result["ok"] == Value::Bool(true) {
        result[name]
            .as_str()
            .ok_or_else(|| format!("result without `{name}`: {result}"))
    } else {
        Err(result["error"]
            .as_str()
            .unwrap_or("unknown error")
            .to_owned())
    }
}

/// Decodes a base64url member of a successful result.
pub(crate) fn ok_bytes(result: &Value, name: &str) -> Result<Vec<u8>, String> {
    let text = ok_str(result, name)?;
    b64::decode(text, "peer output").map_err(|e| e.to_string())
}

/// Prints a result matrix: one row per case, one column per direction.
pub(crate) fn print_matrix(title: &str, rows: &[(String, String, String)]) {
    eprintln!("\n{title}");
    eprintln!(
        "{:<36} {:<22} {:<22}",
        "case", "idforge → peer", "peer → idforge"
    );
    for (case, a, b) in rows {
        eprintln!("{case:<36} {a:<22} {b:<22}");
    }
}
