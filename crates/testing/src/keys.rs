//! Signing keys derived from the seed: the same seed, issuer path and algorithm give the same
//! key, `kid` and JWKS run to run, in process or served on any port.
//!
//! What is byte-identical run to run depends on the algorithm:
//! - `EdDSA` (Ed25519, the default): key and signatures (RFC 8032 signatures are
//!   deterministic), so whole tokens are byte-identical.
//! - `ES256` / `ES384`: the key, `kid` and JWKS, and every header and payload; the signature
//!   differs run to run (ECDSA draws a fresh nonce in OpenSSL), so compare tokens by their
//!   first two parts or their claims.
//! - `RS256`: OpenSSL has no seeded RSA key generation, so the key is drawn fresh when the
//!   provider is built; headers (but the `kid`) and payloads are reproducible, and RSASSA-PKCS1
//!   v1.5 signatures are deterministic for a given key.

use idforge_jose::crypto::{self, EcCurve, OkpCurve};
use idforge_jose::{Jwk, JwsAlgorithm, Key, KeyParams, KeySpec, LocalSigner, SecretBytes};

use crate::error::TestError;
use crate::rng::derive;

/// The algorithms a test issuer signs with.
pub const SUPPORTED_ALGORITHMS: [JwsAlgorithm; 4] = [
    JwsAlgorithm::EdDSA,
    JwsAlgorithm::ES256,
    JwsAlgorithm::ES384,
    JwsAlgorithm::RS256,
];

/// The signer of `generation` of the key for `alg` of the issuer labelled `issuer` (its
/// path); its `kid` is the key's RFC 7638 thumbprint.
pub(crate) fn signer(
    seed: u64,
    issuer: &str,
    alg: JwsAlgorithm,
    generation: u32,
) -> Result<LocalSigner, TestError> {
    let context = format!("{issuer}\n{}\n{generation}", alg.name());
    let params = match alg {
        JwsAlgorithm::EdDSA => {
            let d = derive(seed, "ed25519", context.as_bytes()).to_vec();
            let x = crypto::okp_public_from_private(OkpCurve::Ed25519, &d)?;
            KeyParams::Okp {
                crv: OkpCurve::Ed25519,
                x,
                d: Some(SecretBytes::new(d)),
            }
        }
        JwsAlgorithm::ES256 | JwsAlgorithm::ES384 => {
            let curve = if alg == JwsAlgorithm::ES256 {
                EcCurve::P256
            } else {
                EcCurve::P384
            };
            ec_params(seed, curve, &context)?
        }
        JwsAlgorithm::RS256 => Jwk::generate(KeySpec::Rsa(2048))?.params,
        other => return Err(TestError::UnsupportedAlgorithm(other)),
    };
    let jwk = Jwk::from_params(params);
    let kid = jwk.thumbprint();
    let key = Key::from_jwk(jwk.with_kid(kid).with_alg(alg.name()))?;
    Ok(LocalSigner::new(key, alg)?)
}

/// An EC key whose scalar is drawn from the seed (SEC 1 §3.2.1), redrawn in the negligible
/// case that it falls outside `[1, n-1]`.
fn ec_params(seed: u64, curve: EcCurve, context: &str) -> Result<KeyParams, TestError> {
    let len = curve.coordinate_len();
    for attempt in 0u32..16 {
        let mut d = Vec::with_capacity(64);
        for block in 0u32..2 {
            let ctx = format!("{context}\n{attempt}\n{block}");
            d.extend_from_slice(&derive(seed, curve.name(), ctx.as_bytes()));
        }
        d.truncate(len);
        if let Ok((x, y)) = crypto::ec_public_from_private(curve, &d) {
            return Ok(KeyParams::Ec {
                crv: curve,
                x,
                y,
                d: Some(SecretBytes::new(d)),
            });
        }
    }
    Err(TestError::Key(idforge_jose::Error::InvalidKey(
        "no valid EC scalar from the seed".into(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_seed_issuer_algorithm_and_generation() {
        let kid = |seed, iss, alg, g| {
            signer(seed, iss, alg, g)
                .unwrap()
                .key()
                .kid()
                .unwrap()
                .to_owned()
        };
        for alg in [
            JwsAlgorithm::EdDSA,
            JwsAlgorithm::ES256,
            JwsAlgorithm::ES384,
        ] {
            let a = kid(1, "https://a", alg, 1);
            assert_eq!(a, kid(1, "https://a", alg, 1));
            assert_ne!(a, kid(2, "https://a", alg, 1));
            assert_ne!(a, kid(1, "https://b", alg, 1));
            assert_ne!(a, kid(1, "https://a", alg, 2));
        }
        assert!(matches!(
            signer(1, "https://a", JwsAlgorithm::HS256, 1),
            Err(TestError::UnsupportedAlgorithm(JwsAlgorithm::HS256))
        ));
    }
}
