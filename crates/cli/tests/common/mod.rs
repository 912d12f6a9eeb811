//! Helpers shared by the CLI contract tests: run the `idforge` binary, check the exit-code and
//! stderr contract, and hold files in a scratch directory.
#![allow(dead_code)] // each test binary uses a different subset

pub(crate) mod http;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Runs `idforge args` with `stdin`.
pub(crate) fn idforge(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idforge"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn idforge");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// Runs `idforge args`, asserts success, returns stdout.
pub(crate) fn ok(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let out = idforge(args, stdin);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// [`ok`] with stdout as UTF-8 text.
pub(crate) fn ok_text(args: &[&str], stdin: &[u8]) -> String {
    String::from_utf8(ok(args, stdin)).expect("utf-8")
}

/// Asserts the failure contract: exit 1, empty stdout, one stderr line `error: <code>...`.
pub(crate) fn fails_with(args: &[&str], stdin: &[u8], code: &str) {
    let out = idforge(args, stdin);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "stdout must be empty on failure");
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(err.lines().count(), 1, "one stderr line, got {err:?}");
    assert!(
        err.starts_with(&format!("error: {code}")),
        "expected error: {code}, got {err:?}"
    );
}

/// A scratch directory removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    /// A fresh directory named after the test and the process.
    pub(crate) fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("idforge-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }

    /// Writes `bytes` to `name` and returns the path as a string for command lines.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write");
        p.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
