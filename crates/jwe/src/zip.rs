//! `zip: "DEF"` (RFC 7516 §4.1.3): raw DEFLATE (RFC 1951), inflated with a hard output cap.

use std::io::{Read, Write};

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;

use crate::{Error, Result};

/// Compresses with raw DEFLATE (no zlib or gzip framing), as RFC 7516 §4.1.3 requires.
pub(crate) fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = DeflateEncoder::new(
        Vec::with_capacity(data.len() / 2 + 16),
        Compression::default(),
    );
    enc.write_all(data).map_err(|_| Error::Backend)?;
    enc.finish().map_err(|_| Error::Backend)
}

/// Inflates raw DEFLATE, streaming, and fails with [`Error::LimitExceeded`] as soon as the
/// output would exceed `max` bytes: a small ciphertext can never make us allocate more than
/// `max` (plus one read buffer), whatever its compression ratio (the "zip bomb").
pub(crate) fn inflate(data: &[u8], max: usize) -> Result<Vec<u8>> {
    let mut dec = DeflateDecoder::new(data);
    let mut out = Vec::with_capacity(data.len().saturating_mul(3).min(max));
    let mut buf = [0u8; 8192];
    loop {
        let n = dec
            .read(&mut buf)
            .map_err(|_| Error::Malformed("zip: invalid DEFLATE data".into()))?;
        if n == 0 {
            break;
        }
        if out.len().saturating_add(n) > max {
            return Err(Error::LimitExceeded(format!(
                "decompressed plaintext exceeds {max} bytes"
            )));
        }
        out.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    // The ciphertext decrypts to exactly one DEFLATE stream (RFC 7516 §4.1.3, RFC 1951): bytes
    // after its final block are refused, not ignored.
    if usize::try_from(dec.total_in()).ok() != Some(data.len()) {
        return Err(Error::Malformed(
            "zip: bytes after the end of the DEFLATE stream".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bomb() {
        let data = b"hello hello hello hello".repeat(10);
        let z = deflate(&data).unwrap();
        assert_eq!(inflate(&z, 1 << 20).unwrap(), data);
        let bomb = deflate(&vec![0u8; 10 << 20]).unwrap();
        assert!(bomb.len() < 20_000);
        assert!(matches!(
            inflate(&bomb, 250 << 10),
            Err(Error::LimitExceeded(_))
        ));
        assert!(inflate(b"\xff\xff\xff", 100).is_err());
    }

    #[test]
    fn trailing_bytes_after_the_stream_are_refused() {
        let mut z = deflate(b"payload").unwrap();
        assert_eq!(inflate(&z, 100).unwrap(), b"payload");
        z.extend_from_slice(b"trailing");
        assert!(matches!(inflate(&z, 100), Err(Error::Malformed(_))));
        let mut z = deflate(b"payload").unwrap();
        z.push(0);
        assert!(matches!(inflate(&z, 100), Err(Error::Malformed(_))));
    }
}
