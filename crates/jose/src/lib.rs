//! # idforge-jose
//!
//! The JOSE foundation of idforge: JSON Web Keys (RFC 7517, RFC 7638 thumbprints, RFC 8037 OKP
//! keys), JSON Web Signatures (RFC 7515, RFC 7797), JWT claims validation (RFC 7519, RFC 8725),
//! and the ports other crates build on: [`Signer`], [`Verifier`], [`KeyStore`], [`Clock`].
//!
//! Safety properties, by construction:
//! - verification needs the caller's algorithm allow-list ([`JwsPolicy`]); `none` does not exist
//!   as a [`JwsAlgorithm`];
//! - a key only verifies algorithms of its own type and size, so an HS256 token can never be
//!   checked against an RSA or EC public key (key confusion);
//! - MACs are compared in constant time; `crit` is enforced; `b64: false` is refused unless asked.
//!
//! ```
//! use idforge_jose::{Header, JwsAlgorithm, JwsPolicy, Key, KeySpec, LocalSigner, crypto::EcCurve};
//!
//! let key = Key::generate(KeySpec::Ec(EcCurve::P256))?;
//! let signer = LocalSigner::new(key.clone(), JwsAlgorithm::ES256)?;
//! let token = idforge_jose::jws::sign_compact(Header::new().with_typ("JWT"), b"hello", &signer)?;
//!
//! let public = key.to_public().expect("EC keys have a public part");
//! let verified = JwsPolicy::new([JwsAlgorithm::ES256]).verify_compact(&token, &public)?;
//! assert_eq!(verified.payload, b"hello");
//! # Ok::<(), idforge_jose::Error>(())
//! ```
#![forbid(unsafe_code)]
// Unit tests may unwrap: a panic there is a test failure with a backtrace, which is the point.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod alg;
pub mod b64;
pub mod claims;
pub mod clock;
pub mod crit;
pub mod crypto;
mod error;
pub mod json;
pub mod jwk;
pub mod jwks;
pub mod jws;
mod key;
pub mod keystore;
pub mod signer;

pub use alg::JwsAlgorithm;
pub use claims::{sign_jwt, verify_jwt, ClaimsValidation, Jwt};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{ClaimsError, Error, Result};
pub use jwk::{Jwk, KeyParams, KeySpec, KeyUse, SecretBytes};
pub use jwks::{JwkSet, KeySet};
pub use jws::{Header, JwsPolicy, Verified};
pub use key::Key;
pub use keystore::{KeyRing, KeyStore};
pub use signer::{LocalSigner, Signer, Verifier};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
