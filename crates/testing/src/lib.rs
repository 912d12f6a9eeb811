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
//! See `docs/testing.md`.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod ciba;
mod error;
mod flows;
pub mod http;
mod keys;
mod mint;
mod negative;
mod provider;
mod rng;

pub use ciba::CibaStarted;
pub use error::TestError;
pub use flows::{pkce_challenge, AuthorizeScript, Authorized, Consent, ScriptedLogin, TestClient};
pub use keys::SUPPORTED_ALGORITHMS;
pub use mint::{AccessTokenSpec, IdTokenSpec};
pub use negative::{Defect, WRONG_AUDIENCE, WRONG_ISSUER};
pub use provider::{
    IssuerSpec, TestIssuer, TestProvider, TestProviderBuilder, DEFAULT_BASE_URL,
    DEFAULT_REDIRECT_URI, DEFAULT_START_TIME, PUBLIC_CLIENT_ID, TEST_CLIENT_ID, TEST_CLIENT_SECRET,
    TEST_USER_PASSWORD,
};
pub use rng::SeededRng;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
