//! Base64url without padding (RFC 7515 §2, RFC 4648 §5), strict on input.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::{Error, Result};

/// The base64url alphabet (RFC 4648 §5, Table 2).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Two output characters for every 12-bit group, first character in the low byte: one
/// lookup per half of a 3-byte block instead of one per character, which with 8-byte words
/// makes encoding about twice as fast as the `base64` crate's general-purpose engine on the
/// inputs JOSE and SD-JWT produce.
static PAIRS: [u16; 4096] = {
    let mut t = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = ALPHABET[i >> 6] as u16 | (ALPHABET[i & 63] as u16) << 8;
        i += 1;
    }
    t
};

/// The unpadded base64url length of `n` bytes (RFC 7515 §2).
pub const fn encoded_len(n: usize) -> usize {
    n / 3 * 4
        + match n % 3 {
            0 => 0,
            r => r + 1,
        }
}

/// Appends base64url without padding of `bytes` to `out`. Only ASCII is written.
pub fn encode_append(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + encoded_len(bytes.len()), 0);
    encode_exact(bytes, &mut out[start..]);
}

/// Encodes `bytes` into the start of `out` and returns the encoded length, or `None` (and
/// writes nothing) when `out` is shorter than [`encoded_len`]. For fixed-size stack buffers.
pub fn encode_to_slice(bytes: &[u8], out: &mut [u8]) -> Option<usize> {
    let n = encoded_len(bytes.len());
    encode_exact(bytes, out.get_mut(..n)?);
    Some(n)
}

/// Encodes `bytes` into `out`, which is exactly [`encoded_len`] long.
fn encode_exact(bytes: &[u8], out: &mut [u8]) {
    let pair = |n: u64| u64::from(PAIRS[(n & 0xfff) as usize]);
    // Six bytes become eight characters, read as one big-endian word: only while eight bytes
    // are readable, so the word never runs past the input.
    let words = bytes.len().saturating_sub(2) / 6;
    let (head, rest_out) = out.split_at_mut(words * 8);
    for (k, o) in head.chunks_exact_mut(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[k * 6..k * 6 + 8]);
        let n = u64::from_be_bytes(w) >> 16;
        let chars = pair(n >> 36) | pair(n >> 24) << 16 | pair(n >> 12) << 32 | pair(n) << 48;
        o.copy_from_slice(&chars.to_le_bytes());
    }
    let rest = &bytes[words * 6..];
    let blocks = rest.chunks_exact(3);
    let tail_in = blocks.remainder();
    let (body, tail) = rest_out.split_at_mut(rest.len() / 3 * 4);
    for (i, o) in blocks.zip(body.chunks_exact_mut(4)) {
        let n = u64::from(i[0]) << 16 | u64::from(i[1]) << 8 | u64::from(i[2]);
        o.copy_from_slice(&((pair(n >> 12) | pair(n) << 16) as u32).to_le_bytes());
    }
    // RFC 4648 §4: a final 1 or 2 bytes become 2 or 3 characters, zero bits appended.
    match *tail_in {
        [x] => tail.copy_from_slice(&PAIRS[usize::from(x) << 4].to_le_bytes()),
        [x, y] => {
            let n = (usize::from(x) << 10) | (usize::from(y) << 2);
            tail[..2].copy_from_slice(&PAIRS[n >> 6].to_le_bytes());
            tail[2] = ALPHABET[n & 63];
        }
        _ => {}
    }
}

/// Encodes bytes as base64url without padding.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    let mut out = String::new();
    encode_into(bytes, &mut out);
    out
}

/// Encodes into an existing string (avoids an allocation on hot paths).
pub fn encode_into(bytes: impl AsRef<[u8]>, out: &mut String) {
    let bytes = bytes.as_ref();
    out.reserve(encoded_len(bytes.len()));
    // Through a stack buffer so that only the new text is checked as UTF-8, not `out` again.
    let mut buf = [0u8; 1024];
    for chunk in bytes.chunks(768) {
        let text = &mut buf[..encoded_len(chunk.len())];
        encode_exact(chunk, text);
        out.push_str(std::str::from_utf8(text).unwrap_or_default());
    }
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

    /// RFC 4648 §10 test vectors, in the URL-safe alphabet without padding.
    #[test]
    fn rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(input), expected);
            assert_eq!(encoded_len(input.len()), expected.len());
        }
        // The two characters that differ from the standard alphabet (RFC 4648 §5).
        assert_eq!(encode([0xfb, 0xff]), "-_8");
    }

    #[test]
    fn agrees_with_the_base64_crate_on_every_length_and_byte() {
        for len in (0..64usize).chain([767, 768, 769, 2000]) {
            for seed in 0..=255u8 {
                let input: Vec<u8> = (0..len)
                    .map(|i| {
                        seed.wrapping_mul(31)
                            .wrapping_add((i as u8).wrapping_mul(97))
                    })
                    .collect();
                let mut appended = b"prefix".to_vec();
                encode_append(&input, &mut appended);
                let expected = URL_SAFE_NO_PAD.encode(&input);
                assert_eq!(&appended[6..], expected.as_bytes(), "{input:?}");
                let mut fixed = [0u8; 4096];
                assert_eq!(encode_to_slice(&input, &mut fixed), Some(expected.len()));
                assert_eq!(&fixed[..expected.len()], expected.as_bytes());
                if !expected.is_empty() {
                    let short = &mut fixed[..expected.len() - 1];
                    assert_eq!(encode_to_slice(&input, short), None);
                }
                let mut s = String::from("x");
                encode_into(&input, &mut s);
                assert_eq!(s, format!("x{expected}"));
            }
        }
    }
}
