//! # idforge
//!
//! An embeddable identity-provider library. This facade re-exports each idforge crate behind a
//! cargo feature of the same name, so `idforge = { features = ["jwe"] }` is all a host needs.
//!
//! | feature | crate | what it gives |
//! |---|---|---|
//! | `jose` | [`idforge_jose`] | JWK/JWKS, JWS, JWT claims validation, `Signer`/`Verifier`/`KeyStore`/`Clock` ports |
//! | `jwe`  | [`idforge_jwe`]  | JWE compact and JSON serializations, nested (signed then encrypted) JWTs |
//! | `oauth-core` | [`idforge_oauth_core`] | OAuth 2.0 / OpenID Connect authorization server: sans-IO endpoints, grant handlers, JWT/opaque tokens, ID tokens, discovery, memory stores |
//! | `ciba` | [`idforge_ciba`] | OpenID CIBA: backchannel authentication in poll, ping and push modes, approval handles, on-behalf-of tokens with `act` for agents |
//! | `sd-jwt` | [`idforge_sd_jwt`] | SD-JWT (RFC 9901) and SD-JWT VC: issuance, holder presentations with key binding, verification |
//! | `oid4vci` | [`idforge_oid4vci`] | OpenID for Verifiable Credential Issuance 1.0: credential templates, offers, pre-authorized code grant, nonce/credential/deferred/notification endpoints, Token Status Lists |
//! | `saml-sp` | [`idforge_saml_sp`] | SAML 2.0 SP: XML parsing with limits, C14N, XML-DSig verification against signature wrapping, Response/Assertion validation, AuthnRequest, metadata and certificate refresh |
//! | `orgs` | [`idforge_orgs`] | B2B organizations: hierarchy, user sharing policies and roles, per-organization issuers with root governance, `organization_switch` grant, organization discovery, inherited settings |
#![forbid(unsafe_code)]

#[cfg(feature = "jose")]
#[doc(inline)]
pub use idforge_jose as jose;

#[cfg(feature = "jwe")]
#[doc(inline)]
pub use idforge_jwe as jwe;

#[cfg(feature = "oauth-core")]
#[doc(inline)]
pub use idforge_oauth_core as oauth_core;

#[cfg(feature = "ciba")]
#[doc(inline)]
pub use idforge_ciba as ciba;

#[cfg(feature = "sd-jwt")]
#[doc(inline)]
pub use idforge_sd_jwt as sd_jwt;

#[cfg(feature = "oid4vci")]
#[doc(inline)]
pub use idforge_oid4vci as oid4vci;

#[cfg(feature = "saml-sp")]
#[doc(inline)]
pub use idforge_saml_sp as saml_sp;

#[cfg(feature = "orgs")]
#[doc(inline)]
pub use idforge_orgs as orgs;

/// The README's Rust examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
