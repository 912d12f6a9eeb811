//! # idforge-oauth-core
//!
//! An OAuth 2.0 / OpenID Connect authorization server as a sans-IO library: what a Rust service
//! embeds to become an OpenID Provider.
//!
//! - Endpoints take typed requests and return typed outcomes: the authorization endpoint returns
//!   an [`Interaction`] (show login, ask consent, redirect, show an error) and the host resumes
//!   the flow with the user's [`Decision`]; the [`TokenEndpoint`] authenticates the client once
//!   and dispatches by `grant_type` to a [`GrantHandler`] (built-in: `authorization_code`,
//!   `refresh_token`, `client_credentials`, `password`; other crates register more).
//! - Request objects (RFC 9101, [`request_object`]) and pushed authorization requests (RFC
//!   9126, [`PushedAuthorizationEndpoint`]); `request_uri` accepts only the PAR endpoint's URNs.
//! - Ports the host implements: [`ClientStore`], [`GrantStore`] (the grant is the root of a
//!   token family; single-use codes are `consume`d and refresh tokens `rotate`d atomically;
//!   keys are SHA-256 hashes of the secrets), [`PushedRequestStore`] (optional, for PAR),
//!   [`ClaimsSource`], [`PasswordVerifier`], [`Rng`],
//!   and from `idforge_jose` the [`KeyStore`](idforge_jose::KeyStore) and
//!   [`Clock`](idforge_jose::Clock).
//! - One [`Error`] with every registered error code, its description and HTTP status.
//! - Feature `memory` (default): in-memory ports; `testkit`: storage conformance tests for any
//!   [`GrantStore`]; `http`: adapters to `http::Request`/`http::Response`.
//!
//! No web framework, runtime or global state: bring your own.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod authorize;
pub mod client;
pub mod config;
pub mod discovery;
mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod introspect;
#[cfg(feature = "memory")]
pub mod memory;
pub mod model;
pub mod par;
pub mod ports;
pub mod provider;
pub mod request_object;
pub mod revoke;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod token;
pub mod tokens;
pub mod userinfo;

pub use authorize::{AuthorizationEndpoint, AuthorizationResponse, Decision, Interaction, Session};
pub use client::{Client, ClientAuthMethod};
pub use config::{AccessTokenFormat, Config};
pub use discovery::DiscoveryEndpoint;
pub use error::{Error, Result};
pub use introspect::IntrospectionEndpoint;
pub use model::{AuthorizationRequest, Limits, Params, Scopes, TokenRequest, TokenResponse};
pub use par::{PushedAuthorizationEndpoint, PushedAuthorizationResponse};
pub use ports::{
    ClaimsSource, ClientStore, Grant, GrantStore, OsRng, PasswordVerifier, PreIssueIdTokenAction,
    PushedRequest, PushedRequestStore, Rng, TokenHash,
};
pub use provider::{Context, Provider, ProviderBuilder};
pub use revoke::RevocationEndpoint;
pub use token::{GrantHandler, GrantRegistry, TokenEndpoint};
pub use userinfo::{UserInfoEndpoint, UserInfoResponse};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
