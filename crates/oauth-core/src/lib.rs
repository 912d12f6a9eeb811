//! # idforge-oauth-core
//!
//! An OAuth 2.0 / OpenID Connect authorization server as a sans-IO library: what a Rust service
//! embeds to become an OpenID Provider, and the ground other idforge crates (CIBA, OID4VCI,
//! organizations) build their grants and endpoints on.
//!
//! - Endpoints ([`endpoint`]) take typed requests and return typed outcomes: the authorization
//!   endpoint returns an [`Interaction`] (show login, ask consent, redirect, show an error) and
//!   the host resumes the flow with the user's [`Decision`]; the [`TokenEndpoint`]
//!   authenticates the client once ([`client_auth`]) and dispatches by `grant_type` to a
//!   [`GrantHandler`] ([`grant`]: `authorization_code`, `refresh_token`,
//!   `client_credentials`, `password`; other crates register more).
//! - Token minting ([`issue`]) and validation ([`validate`]) are public, so a grant or resource
//!   endpoint written outside this crate issues and resolves exactly what the built-in ones do,
//!   shaped by the grant's [`TokenContents`] (audience, `act`, `authorization_details`, ...).
//! - Request objects (RFC 9101, [`request_object`]) and pushed authorization requests (RFC
//!   9126, [`PushedAuthorizationEndpoint`]); `request_uri` accepts only the PAR endpoint's URNs.
//! - Ports the host implements ([`ports`]): [`ClientStore`], [`GrantStore`] (the grant is the
//!   root of a token family; single-use artifacts are `consume`d and refresh tokens `rotate`d
//!   atomically; keys are SHA-256 hashes of the secrets), [`PushedRequestStore`] (optional, for
//!   PAR), [`ClaimsSource`], [`PasswordVerifier`], [`Rng`], [`ConnectedUserStore`] and
//!   [`LocalAttributeStore`] (users of a host's directory with attributes placed locally,
//!   merged by [`users::FederatedUsers`]), and from `idforge_jose` the
//!   [`KeyStore`](idforge_jose::KeyStore) and [`Clock`](idforge_jose::Clock).
//! - One [`Error`] with every registered error code, its description and HTTP status, and
//!   [`Error::Protocol`] for the codes of other specifications.
//! - Feature `memory` (default): in-memory ports; `testkit`: storage conformance tests for any
//!   [`GrantStore`]; `http`: adapters to `http::Request`/`http::Response`.
//!
//! Layers, each importing only the ones above it: model (`error`, `model`, `config`,
//! `secret`, `client`, `records`) → ports (`ports`, `context`) → logic (`claims`,
//! `client_auth`, `issue`, `revocation`, `validate`, `request_object`, `pushed_request`,
//! `grant`, `users`) → endpoints (`endpoint`, `provider`, `http`) → `memory` / `testkit`.
//!
//! No web framework, runtime or global state: bring your own.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

// Model.
pub mod client;
pub mod config;
pub mod device;
mod error;
pub mod model;
pub mod records;
pub mod secret;
pub mod session;
pub mod token_exchange;
// Ports.
pub mod context;
pub mod ports;
// Logic.
pub mod claims;
pub mod client_auth;
pub mod grant;
pub mod issue;
pub mod logout;
pub mod pushed_request;
pub mod request_object;
pub mod revocation;
// Model (`users::placement`) and logic over the ports (`users::federated`).
pub mod users;
pub mod validate;
// Endpoints.
pub mod endpoint;
#[cfg(feature = "http")]
pub mod http;
pub mod provider;
// Implementations.
#[cfg(feature = "memory")]
pub mod memory;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use client::{Client, ClientAuthMethod};
pub use config::{AccessTokenFormat, Config, ConfigError, TokenPersistence};
pub use context::Context;
pub use endpoint::authorize::{
    AuthorizationEndpoint, AuthorizationResponse, Decision, Interaction, NextStep, Session,
};
pub use endpoint::device::{DeviceAuthorizationEndpoint, DeviceVerification};
pub use endpoint::discovery::{DiscoveryContributor, DiscoveryEndpoint};
pub use endpoint::end_session::{
    EndSessionEndpoint, EndSessionRequest, LoggedOut, LogoutDecision, LogoutStep,
};
pub use endpoint::introspect::IntrospectionEndpoint;
pub use endpoint::par::{PushedAuthorizationEndpoint, PushedAuthorizationResponse};
pub use endpoint::revoke::RevocationEndpoint;
pub use endpoint::sessions::{Login, LoginOutcome, PasswordUpdateOutcome, Sessions};
pub use endpoint::token::TokenEndpoint;
pub use endpoint::userinfo::{UserInfoEndpoint, UserInfoResponse};
pub use error::{Error, ProtocolError, Result};
pub use grant::device_code::{DeviceCodeGrant, DeviceFlow};
pub use grant::token_exchange::TokenExchangeGrant;
pub use grant::{GrantHandler, GrantRegistry};
pub use issue::{issue_token_response, IssueOptions};
pub use model::{AuthorizationRequest, Limits, Params, Scopes, TokenRequest, TokenResponse};
pub use ports::{
    AttemptLimiter, AuthorizationExtension, ClaimsSource, ClientStore, ConnectedUserStore,
    DeviceCodeStore, GrantStore, JwksFetcher, LocalAttributeStore, PasswordVerifier,
    PreIssueIdTokenAction, PushedRequestStore, SessionStore, UserLookup,
};
pub use provider::{Provider, ProviderBuilder};
pub use records::{Grant, PushedRequest, TokenContents, TokenKind, TokenRecord, TokenType};
pub use secret::{OsRng, Rng, TokenHash};
pub use session::{
    BackChannelLogout, DeliveryResult, FrontChannelLogout, PasswordUpdatePolicy, RememberMe,
    SessionEnded, SessionPolicy, SessionRecord, SessionStatus,
};
pub use validate::{resolve_access_token, verify_own_jwt, AccessTokenInfo};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
