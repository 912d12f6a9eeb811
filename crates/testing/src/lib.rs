//! A real idforge identity provider made deterministic and scriptable for the test suites of
//! applications that use one (relying parties, resource servers, wallets, SAML SPs), and
//! fuzzing entry points for users' own fuzz targets.
//!
//! - [`TestProvider`]: one or more issuers ([`TestIssuer`], each an oauth-core `Provider` on
//!   the memory stores with its own keys, algorithm and discovery) sharing a controllable
//!   clock ([`TestProvider::advance`]); every key, code, token and expiry comes from the seed
//!   ([`SeededRng`], [`SUPPORTED_ALGORITHMS`]: with the default `EdDSA` whole tokens are
//!   byte-identical run to run). In process ([`TestProviderBuilder::build`],
//!   [`TestProvider::router`] for tower's `oneshot`) or on a loopback port
//!   ([`TestProviderBuilder::serve`]).
//! - Minting through the real issuance code: [`TestIssuer::issue_access_token`],
//!   [`TestIssuer::issue_id_token`] ([`AccessTokenSpec`], [`IdTokenSpec`]).
//! - Scripted flows without HTML ([`ScriptedLogin`], [`AuthorizeScript`]): authorization code
//!   with PKCE, refresh, client credentials, device authorization, CIBA approval, token
//!   exchange.
//! - Negative fixtures ([`Defect`]): expired, not yet valid, wrong issuer, wrong audience,
//!   wrong `typ`, tampered signature, unknown `kid`, `alg: none`, key confusion, a
//!   rotated-away key.
//! - The control endpoint (module [`http`]) for suites in other languages.
//!
//! - [`saml`]: a SAML IdP for SP tests, with every wrapping and signature attack of saml-sp's
//!   attack suite as one switch; [`sd_jwt`]: SD-JWT VC issuance and presentations for wallet
//!   backends' tests.
//! - `fuzzing` (feature): one entry point per parser and `arbitrary` structured inputs.
//!
//! The provider is the default feature `provider`; fuzz builds take only `fuzzing`.
//!
//! See `docs/testing.md` and `docs/fuzzing.md`.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(feature = "provider")]
mod ciba;
#[cfg(feature = "provider")]
mod error;
#[cfg(feature = "provider")]
mod flows;
#[cfg(feature = "provider")]
pub mod http;
#[cfg(feature = "provider")]
mod keys;
#[cfg(feature = "provider")]
mod mint;
#[cfg(feature = "provider")]
mod negative;
#[cfg(feature = "provider")]
mod provider;
#[cfg(feature = "provider")]
mod rng;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod saml;
pub mod sd_jwt;

#[cfg(feature = "provider")]
pub use ciba::CibaStarted;
#[cfg(feature = "provider")]
pub use error::TestError;
#[cfg(feature = "provider")]
pub use flows::{pkce_challenge, AuthorizeScript, Authorized, Consent, ScriptedLogin, TestClient};
#[cfg(feature = "provider")]
pub use keys::SUPPORTED_ALGORITHMS;
#[cfg(feature = "provider")]
pub use mint::{AccessTokenSpec, IdTokenSpec};
#[cfg(feature = "provider")]
pub use negative::{Defect, WRONG_AUDIENCE, WRONG_ISSUER};
#[cfg(feature = "provider")]
pub use provider::{
    IssuerSpec, TestIssuer, TestProvider, TestProviderBuilder, DEFAULT_BASE_URL,
    DEFAULT_REDIRECT_URI, DEFAULT_START_TIME, PUBLIC_CLIENT_ID, TEST_CLIENT_ID, TEST_CLIENT_SECRET,
    TEST_USER_PASSWORD,
};
#[cfg(feature = "provider")]
pub use rng::SeededRng;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
