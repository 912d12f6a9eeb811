//! Base64url without padding (RFC 7515 §2, RFC 4648 §5), strict on input.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::{Error, Result};

/// Encodes bytes as base64url without padding.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Encodes into an existing string (avoids an allocation on hot paths).
pub fn encode_into(bytes: impl AsRef<[u8]>, out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out)
}

/// Decodes strict base64url: no padding, no whitespace, no `+`/`/`, canonical trailing bits.
///
/// `what` names the member in the error so a caller learns *which* part was bad.
pub fn decode(input: impl AsRef<[u8]>, what: &'static str) -> Result<Vec<u8>> {
    // The default engine rejects non-canonical trailing bits, padding and foreign characters,
    // so two different strings never decode to the same bytes (RFC 7515 §2 / RFC 4648 §3.5).
    URL_SAFE_NO_PAD
        .decode(input)
        .map_err(|_| Error::Base64(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_padding_and_std_alphabet() {
        assert!(decode("YQ==", "x").is_err());
        assert!(decode("+/8", "x").is_err());
        assert!(decode("YR", "x").is_err(), "non-canonical trailing bits");
        assert_eq!(decode("YQ", "x").unwrap(), b"a");
        assert_eq!(encode(b"a"), "YQ");
    }
}
