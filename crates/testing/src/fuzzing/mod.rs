//! Fuzzing entry points: one function per parser the repository's `fuzz/` targets cover (they
//! call exactly these), each taking the raw fuzzer input, never panicking on any input except
//! when a property it asserts is broken (a bug: that panic is the finding). Use them in your
//! own cargo-fuzz targets beside your code, and [`input`] for structured inputs
//! (`arbitrary::Arbitrary`) that render to the wire forms the parsers take.
//!
//! Each entry point verifies against fixed material (RFC test keys, a fixed SAML IdP
//! certificate) and runs providers on the memory stores at a fixed time ([`NOW`]), so the seed
//! corpora in the repository's `fuzz/corpus/<name>/` reach the deep code. See
//! `docs/fuzzing.md`.
//!
//! ```
//! // The body of a cargo-fuzz target: `fuzz_target!(|data: &[u8]| { ... })`.
//! let data = br#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
//! idforge_testing::fuzzing::jwk_parse(data);
//! for (name, entry) in idforge_testing::fuzzing::TARGETS {
//!     entry(b"");
//!     assert!(!name.is_empty());
//! }
//! ```

mod ciba;
mod fixtures;
pub mod input;
mod jose;
mod oauth;
mod oid4vci;
mod orgs;
mod saml;
mod scim;
mod sd_jwt;

pub use ciba::{ciba_backchannel_form, ciba_env, ciba_signed_request, CibaEnv};
pub use fixtures::{block_on, header_and_body, NOW};
pub use jose::{jwe_compact, jwe_json, jwk_parse, jws_compact, jws_json};
pub use oauth::{
    oauth_authorize_query, oauth_client_registration, oauth_device_authorization,
    oauth_end_session, oauth_par_form, oauth_provider, oauth_session, oauth_token_exchange,
    oauth_token_form,
};
pub use oid4vci::{oid4vci_credential_offer, oid4vci_credential_request, oid4vci_proof_jwt};
pub use orgs::orgs_sharing_api;
pub use saml::{saml_metadata, saml_redirect_decode, saml_response, saml_xml_parse};
pub use scim::{scim_filter_parse, scim_patch_path};
pub use sd_jwt::{sd_jwt_disclosure, sd_jwt_parse, sd_jwt_verify, sd_jwt_x5c};

/// An entry point: the raw fuzzer input in, a panic only for a broken property.
pub type EntryPoint = fn(&[u8]);

/// Every entry point by the name of the repository's fuzz target that calls it (and of its
/// seed corpus directory, `fuzz/corpus/<name>/`).
pub const TARGETS: &[(&str, EntryPoint)] = &[
    ("jwk_parse", jwk_parse),
    ("jws_compact", jws_compact),
    ("jws_json", jws_json),
    ("jwe_compact", jwe_compact),
    ("jwe_json", jwe_json),
    ("scim_filter_parse", scim_filter_parse),
    ("scim_patch_path", scim_patch_path),
    ("sd_jwt_parse", sd_jwt_parse),
    ("sd_jwt_verify", sd_jwt_verify),
    ("sd_jwt_disclosure", sd_jwt_disclosure),
    ("sd_jwt_x5c", sd_jwt_x5c),
    ("oauth_authorize_query", oauth_authorize_query),
    ("oauth_token_form", oauth_token_form),
    ("oauth_par_form", oauth_par_form),
    ("oauth_device_authorization", oauth_device_authorization),
    ("oauth_token_exchange", oauth_token_exchange),
    ("oauth_client_registration", oauth_client_registration),
    ("oauth_end_session", oauth_end_session),
    ("saml_xml_parse", saml_xml_parse),
    ("saml_response", saml_response),
    ("saml_metadata", saml_metadata),
    ("saml_redirect_decode", saml_redirect_decode),
    ("ciba_backchannel_form", ciba_backchannel_form),
    ("ciba_signed_request", ciba_signed_request),
    ("oid4vci_credential_request", oid4vci_credential_request),
    ("oid4vci_proof_jwt", oid4vci_proof_jwt),
    ("oid4vci_credential_offer", oid4vci_credential_offer),
    ("orgs_sharing_api", orgs_sharing_api),
];

/// The entry point for a fuzz target name.
pub fn entry_point(name: &str) -> Option<EntryPoint> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}
