//! [`SeededRng`]: the provider's randomness from a seed, so every code, token, `jti` and grant
//! id is the same run to run.

use std::sync::Mutex;

use idforge_jose::crypto::HashAlg;
use idforge_oauth_core::Rng;

/// A deterministic byte stream: SHA-256 in counter mode over a key derived from the seed and a
/// label (one stream per issuer path, so adding an issuer does not shift another one's
/// values).
///
/// For tests only: the seed is the whole secret, and anyone who knows it predicts every code
/// and token. Never give it to a production provider.
#[derive(Debug)]
pub struct SeededRng {
    key: [u8; 32],
    state: Mutex<Stream>,
}

#[derive(Debug)]
struct Stream {
    counter: u64,
    block: [u8; 32],
    pos: usize,
}

impl SeededRng {
    /// The stream for `seed` and `label`.
    pub fn new(seed: u64, label: &str) -> Self {
        SeededRng {
            key: derive(seed, "rng", label.as_bytes()),
            state: Mutex::new(Stream {
                counter: 0,
                block: [0; 32],
                pos: 32,
            }),
        }
    }

    /// Fills `out` with the next bytes of the stream.
    pub fn fill_bytes(&self, out: &mut [u8]) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for b in out.iter_mut() {
            if s.pos == s.block.len() {
                let mut input = Vec::with_capacity(40);
                input.extend_from_slice(&self.key);
                input.extend_from_slice(&s.counter.to_be_bytes());
                s.block = sha256(&input);
                s.counter += 1;
                s.pos = 0;
            }
            *b = s.block[s.pos];
            s.pos += 1;
        }
    }
}

impl Rng for SeededRng {
    fn fill(&self, buf: &mut [u8]) -> idforge_oauth_core::Result<()> {
        self.fill_bytes(buf);
        Ok(())
    }
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let mut digest = [0u8; 64];
    HashAlg::Sha256.digest_into(data, &mut digest);
    let mut out = [0u8; 32];
    out.copy_from_slice(&digest[..32]);
    out
}

/// A 32-byte value bound to the seed, a purpose and a context: length-prefixed fields, so no
/// two (purpose, context) pairs hash the same input.
pub(crate) fn derive(seed: u64, purpose: &str, context: &[u8]) -> [u8; 32] {
    let mut input = b"idforge-testing/v1".to_vec();
    input.extend_from_slice(&seed.to_be_bytes());
    for part in [purpose.as_bytes(), context] {
        input.extend_from_slice(&(part.len() as u64).to_be_bytes());
        input.extend_from_slice(part);
    }
    sha256(&input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_label_give_the_same_stream_whatever_the_chunking() {
        let a = SeededRng::new(7, "https://idp.test");
        let b = SeededRng::new(7, "https://idp.test");
        let mut one = [0u8; 80];
        a.fill_bytes(&mut one);
        let mut two = [0u8; 80];
        b.fill_bytes(&mut two[..13]);
        b.fill_bytes(&mut two[13..]);
        assert_eq!(one, two);
    }

    #[test]
    fn seeds_and_labels_separate_streams() {
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        let mut z = [0u8; 32];
        SeededRng::new(7, "a").fill_bytes(&mut x);
        SeededRng::new(8, "a").fill_bytes(&mut y);
        SeededRng::new(7, "b").fill_bytes(&mut z);
        assert_ne!(x, y);
        assert_ne!(x, z);
        assert_ne!(derive(1, "ab", b"c"), derive(1, "a", b"bc"));
    }
}
