//! # idforge-oid4vci
//!
//! OpenID for Verifiable Credential Issuance 1.0 (final) as a sans-IO library, on oauth-core's
//! public API and the `sd-jwt` crate: a credential issuer for digital wallets.
//!
//! - Credential templates ([`template`], WSO2's name for credential configurations) with
//!   validation when saved, behind the [`TemplateStore`] port.
//! - Credential Issuer Metadata (§12.2, well-known insertion §12.2.2, signed metadata §12.2.3).
//! - Credential offers by value and by reference (§4) with pre-authorized code (§6, `tx_code`
//!   with bounded attempts, anonymous access) or authorization code (`issuer_state`) grants.
//! - The pre-authorized code grant ([`PreAuthorizedCodeGrant`], an oauth-core `GrantHandler`
//!   over `TokenKind::Artifact` single-use records) and `authorization_details` of type
//!   `openid_credential` carried into the access token (§5.1.1, §6.2).
//! - The authorization code flow (§5): [`CredentialAuthorization`], an oauth-core
//!   `AuthorizationExtension` checking `authorization_details` (§5.1.1) and redeeming
//!   `issuer_state` (§5.1.3) for the offer's user, with `credential_identifiers` (§6.2) in the
//!   access token.
//! - Nonce (§7), credential (§8: every proof rule of §8.2.1.1 / Appendix F.1, batch,
//!   `dc+sd-jwt` and `jwt_vc_json`), deferred credential (§9, [`DeferredIssuance`] port) and
//!   notification (§11, [`NotificationHandler`] port) endpoints, with the error codes of
//!   §8.3.1.2, §9.3, §11.3 ([`CredentialErrorCode`]).
//! - Credential request and response encryption (§10, [`encryption`], through `idforge-jwe`).
//! - Revocation through Token Status Lists ([`status_list`]): every credential has a
//!   `status.status_list` entry; status list tokens (`statuslist+jwt`, zlib, 1 bit) are signed
//!   on request; [`status_list::StatusListTokenResolver`] reads them for the `sd-jwt` verifier.
//! - A sans-IO wallet client ([`wallet`]): offer and metadata resolution, pre-authorized and
//!   authorization code (PKCE) flows, nonce, proofs, (batch) credential requests, deferred
//!   polling, notifications.
//! - Feature `memory` (default): in-memory ports; `testkit`: the storage conformance suite;
//!   `http`: oauth-core's `HttpEndpoints` for every endpoint.
//!
//! Layers, each importing only the ones above it: model (`error`, `template`, `offer`,
//! `metadata`, `request`) → logic (`authorization`, `credential`, `encryption`, `status_list`)
//! → ports
//! (`ports`) → endpoints (`code_flow`, `grant`, `issuer`, `http`) → `memory` / `testkit`.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

// Model.
mod error;
pub mod metadata;
pub mod offer;
pub mod proof_key;
pub mod request;
pub mod template;
// Logic.
pub mod authorization;
pub mod credential;
pub mod encryption;
pub mod status_list;
// Ports.
pub mod ports;
// Endpoints.
pub mod code_flow;
pub mod grant;
#[cfg(feature = "http")]
pub mod http;
pub mod issuer;
pub mod wallet;
// Implementations.
#[cfg(feature = "memory")]
pub mod memory;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use code_flow::{CredentialAuthorization, WalletClients};
pub use error::{CredentialErrorCode, TemplateError};
pub use grant::PreAuthorizedCodeGrant;
pub use issuer::{
    CreatedOffer, CredentialIssuer, CredentialReply, CredentialResponse, IssuerCore, OfferGrant,
    OfferRequest,
};
pub use metadata::{AnonymousAccess, IssuerSettings};
pub use offer::{CredentialOffer, OfferDelivery, TxCode, PRE_AUTHORIZED_CODE_GRANT};
pub use ports::{
    Deferral, DeferredIssuance, FixedDelay, IssuanceRecord, IssuanceStore, Notification,
    NotificationEvent, NotificationHandler, OfferRecord, TemplateStore,
};
pub use request::{check_jwt_proof, CredentialRequest, CredentialTarget, ProofRules};
pub use template::{BindingMethod, ClaimTemplate, CredentialFormat, CredentialTemplate, Display};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
