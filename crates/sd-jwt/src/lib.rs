//! # idforge-sd-jwt
//!
//! Selective Disclosure for JWTs (SD-JWT, RFC 9901) and SD-JWT-based Verifiable Credentials
//! (SD-JWT VC, draft-ietf-oauth-sd-jwt-vc), on top of `idforge-jose` only.
//!
//! - [`Issuer`] turns claims plus a policy of JSON Pointers (object properties at any depth,
//!   array elements, recursive disclosures) into an SD-JWT with sorted digests, optional decoys,
//!   `_sd_alg` sha-256/384/512, `cnf` holder binding, signed with a local key or any
//!   [`Signer`](idforge_jose::Signer) (KMS, HSM). [`VcIssuer`] adds the SD-JWT VC rules.
//! - [`Credential`] is the holder's view: list disclosable claims by path, select by path
//!   (ancestors follow), present with a Key Binding JWT whose `sd_hash` covers exactly what is
//!   sent.
//! - [`SdJwtVerifier`] / [`VcVerifier`] enforce every rule of RFC 9901 §7 with typed
//!   [`Error`]s, in the compact and both JSON serializations (§8), within [`Limits`].
//! - Issuer keys come from an [`IssuerKeyResolver`]: a trusted `Key`/`KeySet`, JWT VC Issuer
//!   Metadata ([`vc::IssuerMetadataResolver`]), or the `x5c` certificate chain validated
//!   against trust anchors ([`X5cIssuerKeyResolver`], draft-ietf-oauth-sd-jwt-vc-19 §2.5).
//!
//! ```
//! use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeySpec, LocalSigner};
//! use idforge_sd_jwt::{ClaimPath, Credential, Issuance, KeyBindingInput, VcIssuer, VcPolicy,
//!                      VcVerifier, VerifierConfig};
//! use serde_json::json;
//!
//! let issuer_key = Key::generate(KeySpec::Ec(EcCurve::P256))?;
//! let holder_key = Key::generate(KeySpec::Ec(EcCurve::P256))?;
//! let clock = FixedClock::new(1_700_000_000);
//!
//! let claims = json!({"vct": "https://example.com/pid", "iss": "https://issuer.example",
//!                     "given_name": "Erika", "address": {"locality": "Berlin", "street": "Heidestr. 17"}});
//! let issuance = Issuance::new(claims.as_object().cloned().unwrap_or_default())
//!     .disclose(["/given_name", "/address", "/address/street"])?
//!     .holder_key(holder_key.jwk().clone());
//! let sd_jwt = VcIssuer::default().issue(
//!     &issuance, &LocalSigner::new(issuer_key.clone(), JwsAlgorithm::ES256)?, &mut rand::thread_rng())?;
//!
//! let credential = Credential::parse(&sd_jwt, &Default::default())?;
//! let presentation = credential.present_with_key_binding(
//!     &[ClaimPath::parse("/address/street")?],
//!     &KeyBindingInput::new("https://verifier.example", "n-0S6_WzA2Mj"),
//!     &LocalSigner::new(holder_key, JwsAlgorithm::ES256)?,
//!     &clock,
//! )?;
//!
//! let verifier = VcVerifier::new(
//!     VerifierConfig::default().require_key_binding("https://verifier.example", "n-0S6_WzA2Mj"),
//!     VcPolicy::default(),
//! );
//! let vc = verifier.verify(&presentation, &issuer_key.to_public().expect("EC"), &clock)?;
//! assert_eq!(vc.sd_jwt.claims["address"]["street"], "Heidestr. 17");
//! assert!(vc.sd_jwt.claims.get("given_name").is_none());
//! # Ok::<(), idforge_sd_jwt::Error>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod disclosure;
mod error;
mod format;
mod hash;
mod holder;
mod issuer;
mod json;
mod pointer;
mod process;
pub mod vc;
mod verifier;
pub mod x5c;

pub use disclosure::{decoy_digest, new_salt, Disclosure, SALT_BYTES};
pub use error::{Error, Result};
pub use format::{Limits, SdJwt, Serialization};
pub use hash::SdAlg;
pub use holder::{Credential, KeyBindingInput};
pub use issuer::{Issuance, Issuer, IssuerConfig};
pub use pointer::ClaimPath;
pub use process::{process, DisclosedClaim, Processed};
pub use vc::{
    JwtVcIssuerMetadata, StatusListReference, StatusListResolver, StatusReference, StatusValue,
    VcIssuer, VcPolicy, VcVerifier, VerifiedVc,
};
pub use verifier::{
    default_algorithms, IssuerContext, IssuerKeyResolver, KeyBinding, KeyBindingPolicy,
    SdJwtVerifier, Verified, VerifierConfig,
};
pub use x5c::{IssBinding, X5cIssuer, X5cIssuerKeyResolver, X5cPolicy};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
