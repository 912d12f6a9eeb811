//! Raw OpenSSL baselines shared by the crates' benches (included with `#[path]`, next to
//! `ratio.rs`): the cheapest correct primitive call for each operation, made on OpenSSL
//! directly and never through idforge's own helpers (`idforge_jose::crypto`), so a bench's
//! ratio cannot hide a cost both sides share (issue 19 §1).
//!
//! ES256: SHA-256 with the low-level hasher and `ECDSA_do_sign` / `ECDSA_do_verify` on a
//! prepared `EC_KEY` (decisions 0009 and 0013: the fastest calls OpenSSL offers; EVP adds a
//! per-call fetch and context, and DER encoding).
#![allow(dead_code, clippy::unwrap_used)] // bench support: setup failures abort by design

use idforge_jose::{Key, KeyParams};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::{Private, Public};

/// A P-256 key prepared for raw ECDSA, private half and public half.
pub(crate) struct RawEs256 {
    pub(crate) private: Option<EcKey<Private>>,
    pub(crate) public: EcKey<Public>,
}

impl RawEs256 {
    /// The same key material as `key` (a P-256 JWK), loaded into OpenSSL directly.
    pub(crate) fn from_key(key: &Key) -> Self {
        let KeyParams::Ec { x, y, d, .. } = &key.jwk().params else {
            panic!("not an EC key")
        };
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let (x, y) = (
            BigNum::from_slice(x).unwrap(),
            BigNum::from_slice(y).unwrap(),
        );
        let public = EcKey::from_public_key_affine_coordinates(&group, &x, &y).unwrap();
        let private = d.as_ref().map(|d| {
            EcKey::from_private_components(
                &group,
                &BigNum::from_slice(d.expose()).unwrap(),
                public.public_key(),
            )
            .unwrap()
        });
        RawEs256 { private, public }
    }

    /// SHA-256 + `ECDSA_do_sign`.
    pub(crate) fn sign(&self, input: &[u8]) -> EcdsaSig {
        let digest = openssl::sha::sha256(input);
        EcdsaSig::sign(&digest, self.private.as_ref().unwrap()).unwrap()
    }

    /// SHA-256 + `ECDSA_do_verify` of an already decoded signature.
    pub(crate) fn verify(&self, input: &[u8], sig: &EcdsaSig) -> bool {
        let digest = openssl::sha::sha256(input);
        sig.verify(&digest, &self.public).unwrap()
    }
}

/// A compact ES256 JWS split for [`RawEs256::verify`]: its signing input and its decoded
/// `R || S` signature (decoding happens once, at setup, not in the timed baseline).
pub(crate) fn split_es256_jws(compact: &str) -> (Vec<u8>, EcdsaSig) {
    let dot = compact.rfind('.').unwrap();
    let rs = idforge_jose::b64::decode(&compact[dot + 1..], "sig").unwrap();
    assert_eq!(rs.len(), 64, "an ES256 signature");
    let sig = EcdsaSig::from_private_components(
        BigNum::from_slice(&rs[..32]).unwrap(),
        BigNum::from_slice(&rs[32..]).unwrap(),
    )
    .unwrap();
    (compact.as_bytes()[..dot].to_vec(), sig)
}
