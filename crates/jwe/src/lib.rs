//! # idforge-jwe
//!
//! JSON Web Encryption (RFC 7516) for idforge: the compact and JSON (flattened and general)
//! serializations, every key management algorithm of RFC 7518 §4 except `RSA1_5` (plus
//! `RSA-OAEP-384/512` and X25519 ECDH-ES from RFC 8037), every content encryption of RFC 7518
//! §5, and nested JWTs for encrypted ID tokens ([`nested`]).
//!
//! Safety properties, by construction:
//! - decryption needs the caller's allow-lists ([`JwePolicy`]); `RSA1_5` does not exist as a
//!   [`KeyManagementAlgorithm`];
//! - every authentication failure (tag, padding, key unwrap, RSA-OAEP decoding, CEK length) is
//!   the same [`Error::InvalidTag`], with a random CEK substituted so timing follows the same
//!   path (RFC 7516 §11.5);
//! - an `epk` must be a valid point on the recipient key's own curve (invalid-curve attacks);
//! - `crit` is enforced, `zip` must be protected and is inflated with a hard output cap,
//!   PBES2 `p2c` is bounded ([`Limits`]).
//!
//! All cryptography goes through `idforge_jose::crypto`, the workspace's single backend.
//!
//! ```
//! use idforge_jose::{crypto::EcCurve, Header, Key, KeySet, KeySpec};
//! use idforge_jwe::{encrypt_compact, ContentEncryption, JwePolicy, KeyManagementAlgorithm};
//!
//! let recipient = Key::generate(KeySpec::Ec(EcCurve::P256))?;
//! let public = recipient.to_public().expect("EC keys have a public part");
//! let token = encrypt_compact(
//!     b"hello",
//!     &public,
//!     KeyManagementAlgorithm::EcdhEsA256Kw,
//!     ContentEncryption::A256Gcm,
//!     Header::new().with("cty", "text/plain"),
//! )?;
//!
//! let policy = JwePolicy::new(
//!     [KeyManagementAlgorithm::EcdhEsA256Kw],
//!     [ContentEncryption::A256Gcm],
//! );
//! let decrypted = policy.decrypt_compact(&token, &KeySet::new(vec![recipient]))?;
//! assert_eq!(decrypted.plaintext, b"hello");
//! assert_eq!(decrypted.header.cty(), Some("text/plain"));
//! # Ok::<(), idforge_jwe::Error>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod alg;
mod decrypt;
pub mod ecdh;
mod encrypt;
mod error;
mod keymgmt;
pub mod nested;
mod zip;

pub use alg::{ContentEncryption, KeyManagementAlgorithm};
pub use decrypt::{Decrypted, JwePolicy, Limits};
pub use encrypt::{encrypt_compact, Encryptor, Jwe, Recipient, RecipientEntry};
pub use error::{Error, Result};
pub use keymgmt::DEFAULT_PBES2_COUNT;

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
