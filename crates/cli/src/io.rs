//! Reading stdin and key files, writing stdout; every failure becomes a [`CliError`].

use std::io::{Read, Write};
use std::path::Path;

use idforge_jose::{JwkSet, KeySet};

use crate::CliError;

/// Largest stdin we accept (tokens and payloads, not bulk data).
const MAX_STDIN: u64 = 16 << 20;

pub(crate) fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    std::io::stdin()
        .take(MAX_STDIN + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CliError::new("io_error", format!("reading stdin: {e}")))?;
    if buf.len() as u64 > MAX_STDIN {
        return Err(CliError::new(
            "limit_exceeded",
            "stdin is larger than 16 MiB",
        ));
    }
    Ok(buf)
}

/// Reads stdin as text with surrounding whitespace (a trailing newline from `echo`) removed.
pub(crate) fn read_stdin_text() -> Result<String, CliError> {
    let bytes = read_stdin()?;
    let text =
        String::from_utf8(bytes).map_err(|_| CliError::new("malformed", "stdin is not UTF-8"))?;
    Ok(text.trim().to_owned())
}

/// Reads a JWK or a JWK Set from `path` and validates every key.
pub(crate) fn read_keys(path: &Path) -> Result<KeySet, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new("io_error", format!("reading {}: {e}", path.display())))?;
    let set = JwkSet::from_jwk_or_set(&text)?;
    if set.keys.is_empty() {
        return Err(CliError::new(
            "key_not_found",
            format!("{} holds no usable key", path.display()),
        ));
    }
    Ok(KeySet::from_jwk_set(&set)?)
}

pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|e| CliError::new("io_error", format!("writing stdout: {e}")))
}

/// Appends a newline to text output so shells print it nicely.
pub(crate) fn line(text: String) -> Vec<u8> {
    let mut v = text.into_bytes();
    v.push(b'\n');
    v
}
