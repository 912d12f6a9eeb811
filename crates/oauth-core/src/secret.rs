//! Secrets: their SHA-256 hashes (what stores keep), the randomness port they come from, and the
//! operating system's source behind it.
//!
//! ARCHITECTURE "Secrets": at least 128 bits of entropy (256 for codes and tokens), compared in
//! constant time, stored only as SHA-256 hashes.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Bytes of entropy of codes, opaque access tokens and refresh tokens (256 bits).
pub const SECRET_BYTES: usize = 32;

/// The SHA-256 hash of a secret (code, token, `jti`): what stores use as a key, so a leaked store
/// does not leak usable secrets (ARCHITECTURE "Secrets").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TokenHash(pub [u8; 32]);

/// Feeds the hasher the digest's first 64 bits, not all 256: a SHA-256 output is already
/// uniform, so a keyed hasher (the std `HashMap`'s SipHash) keeps its HashDoS resistance (an
/// attacker would need a many-way collision on 64 bits of SHA-256), and the memory stores'
/// lookups and inserts hash a quarter of the bytes. Equal hashes still compare all 32 bytes
/// (`Eq`), and equal values feed equal bits, as `Hash` requires.
impl std::hash::Hash for TokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(prefix));
    }
}

impl TokenHash {
    /// Hashes `secret` with SHA-256.
    pub fn of(secret: &str) -> TokenHash {
        Self::of_bytes(secret.as_bytes())
    }

    /// Hashes bytes with SHA-256.
    pub fn of_bytes(secret: &[u8]) -> TokenHash {
        // Into a stack buffer: no allocation on the issuance and resolution paths.
        let mut digest = [0u8; 64];
        let n = idforge_jose::crypto::HashAlg::Sha256.digest_into(secret, &mut digest);
        let mut out = [0u8; 32];
        if n == 32 {
            out.copy_from_slice(&digest[..32]);
        }
        TokenHash(out)
    }

    /// Hashes a namespaced value (`ns` and `value` separated by a NUL), for marks such as
    /// `jti` replay entries and deny-list entries.
    pub fn namespaced(ns: &str, value: &str) -> TokenHash {
        let len = ns.len() + 1 + value.len();
        // The usual marks (a namespace and a `jti` or grant id) fit a stack buffer.
        let mut small = [0u8; 256];
        let mut large = Vec::new();
        let buf = if len <= small.len() {
            &mut small[..len]
        } else {
            large.resize(len, 0);
            &mut large[..]
        };
        buf[..ns.len()].copy_from_slice(ns.as_bytes());
        buf[ns.len()] = 0;
        buf[ns.len() + 1..].copy_from_slice(value.as_bytes());
        Self::of_bytes(buf)
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({})", idforge_jose::b64::encode(&self.0[..6]))
    }
}

/// A source of randomness for secrets (codes, tokens, ids). Injected so tests can be
/// deterministic and HSM-backed hosts can plug in their DRBG.
pub trait Rng: Send + Sync {
    /// Fills `buf` with cryptographically strong random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<()>;
}

/// The operating system's CSPRNG, through OpenSSL's DRBG (`idforge_jose::crypto::random_bytes`).
///
/// Each call to OpenSSL's `RAND_bytes` costs about a microsecond of fixed overhead, more than
/// a token needs, so bytes are drawn 1 KiB at a time into a buffer and handed out once each
/// (consumed bytes are zeroed). The buffer belongs to one process: after a `fork` the child
/// discards it (process id check), so parent and child never share random bytes.
#[derive(Debug, Default)]
pub struct OsRng {
    pool: std::sync::Mutex<Pool>,
}

#[derive(Debug)]
struct Pool {
    pid: u32,
    pos: usize,
    buf: [u8; 1024],
}

impl Default for Pool {
    fn default() -> Self {
        // Empty: the first request fills it.
        Pool {
            pid: 0,
            pos: 1024,
            buf: [0; 1024],
        }
    }
}

impl OsRng {
    /// A new source.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Rng for OsRng {
    fn fill(&self, out: &mut [u8]) -> Result<()> {
        let fail = |_| Error::internal("random source");
        if out.len() > 256 {
            return idforge_jose::crypto::random_bytes(out).map_err(fail);
        }
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let pid = std::process::id();
        if pool.pid != pid || pool.pos + out.len() > pool.buf.len() {
            idforge_jose::crypto::random_bytes(&mut pool.buf).map_err(fail)?;
            pool.pid = pid;
            pool.pos = 0;
        }
        let start = pool.pos;
        out.copy_from_slice(&pool.buf[start..start + out.len()]);
        pool.buf[start..start + out.len()].fill(0);
        pool.pos += out.len();
        Ok(())
    }
}

/// A random secret of `bytes` bytes, base64url encoded.
pub fn random_token(rng: &dyn Rng, bytes: usize) -> Result<String> {
    // Ids, `jti`s, codes and tokens draw at most 64 bytes: a stack buffer, wiped after use.
    let mut small = [0u8; 64];
    let mut large = Vec::new();
    let buf = if bytes <= small.len() {
        &mut small[..bytes]
    } else {
        large.resize(bytes, 0);
        &mut large[..]
    };
    rng.fill(&mut *buf)?;
    let token = idforge_jose::b64::encode(&*buf);
    buf.fill(0);
    Ok(token)
}

/// The [`Rng`] port seen as a `rand` generator, for the JWE encryptor's CEK and IVs.
///
/// `rand`'s `fill_bytes` cannot fail, so a failure of the port is remembered and reported by
/// [`PortRng::finish`]: the caller discards whatever was produced with the bytes drawn after
/// it (they are zeros, never another source's output).
pub struct PortRng<'a> {
    rng: &'a dyn Rng,
    failed: Option<Error>,
}

impl<'a> PortRng<'a> {
    /// Wraps `rng`.
    pub fn new(rng: &'a dyn Rng) -> Self {
        PortRng { rng, failed: None }
    }

    /// `Err` if any draw failed.
    pub fn finish(self) -> Result<()> {
        match self.failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl rand::RngCore for PortRng<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if let Err(e) = self.rng.fill(dest) {
            dest.fill(0);
            self.failed.get_or_insert(e);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

// The port's contract is "cryptographically strong" (see `Rng::fill`).
impl rand::CryptoRng for PortRng<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stack-buffer paths hash exactly what the plain concatenation hashes, on both sides
    /// of the buffer sizes, and equal hashes feed a hasher equally.
    #[test]
    fn hashes_and_draws_on_both_sides_of_the_stack_buffers() {
        let sha = |b: &[u8]| {
            let d = idforge_jose::crypto::HashAlg::Sha256.digest(b);
            TokenHash(d.try_into().unwrap())
        };
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(TokenHash::of("abc").0[..4], [0xba, 0x78, 0x16, 0xbf]);
        for n in [0, 10, 254, 255, 256, 1000] {
            let value = "v".repeat(n);
            let mut plain = b"ns".to_vec();
            plain.push(0);
            plain.extend_from_slice(value.as_bytes());
            assert_eq!(TokenHash::namespaced("ns", &value), sha(&plain), "{n}");
        }
        let rng = OsRng::new();
        for n in [1, 16, 32, 64, 65, 300] {
            let t = random_token(&rng, n).unwrap();
            assert_eq!(idforge_jose::b64::decode(&t, "t").unwrap().len(), n);
        }
        use std::hash::BuildHasher;
        let s = std::collections::hash_map::RandomState::new();
        let (a, b) = (TokenHash::of("x"), TokenHash::of("x"));
        assert_eq!(s.hash_one(a), s.hash_one(b));
        let mut differ = TokenHash::of("x");
        differ.0[31] ^= 1;
        assert_ne!(a, differ, "Eq compares all 32 bytes");
    }

    #[test]
    fn os_rng_never_repeats_and_handles_any_size() {
        let rng = OsRng::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..500 {
            let mut b = [0u8; 16];
            rng.fill(&mut b).unwrap();
            assert!(seen.insert(b), "repeated output");
            assert_ne!(b, [0u8; 16]);
        }
        let mut big = vec![0u8; 4096];
        rng.fill(&mut big).unwrap();
        assert!(big.iter().any(|b| *b != 0));
        let mut empty = [];
        rng.fill(&mut empty).unwrap();
    }

    struct Failing;
    impl Rng for Failing {
        fn fill(&self, _: &mut [u8]) -> Result<()> {
            Err(Error::internal("no entropy"))
        }
    }

    #[test]
    fn port_rng_reports_a_failed_draw() {
        use rand::RngCore;
        let os = OsRng::new();
        let mut ok = PortRng::new(&os);
        let mut buf = [0u8; 32];
        ok.fill_bytes(&mut buf);
        assert!(ok.finish().is_ok());
        assert_ne!(buf, [0u8; 32]);
        let mut bad = PortRng::new(&Failing);
        let mut buf = [7u8; 8];
        bad.fill_bytes(&mut buf);
        assert_eq!(buf, [0u8; 8]);
        assert!(bad.finish().is_err());
    }

    #[test]
    fn token_hash_is_sha256() {
        // SHA-256("abc"), FIPS 180-2 Appendix B.1.
        assert_eq!(TokenHash::of("abc").0[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}
