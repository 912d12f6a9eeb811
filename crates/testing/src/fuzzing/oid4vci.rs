//! OpenID for Verifiable Credential Issuance parsers (idforge-oid4vci).

use idforge_jose::JwsAlgorithm;
use idforge_oid4vci::request::{
    check_jwt_proof, CredentialRequest, CredentialTarget, ProofRules, MAX_PROOFS,
};
use idforge_oid4vci::{CredentialOffer, OfferDelivery};

use super::fixtures::*;

/// OID4VCI credential offers (§4.1): JSON offers and offer URIs never panic; what parses
/// re-serializes to the same offer.
pub fn oid4vci_credential_offer(data: &[u8]) {
    if let Ok(o) = CredentialOffer::from_json(data) {
        let again =
            CredentialOffer::from_json(o.to_json().to_string().as_bytes()).expect("re-parse");
        assert_eq!(again, o);
        let uri = OfferDelivery::ByValue(o.clone()).to_uri();
        assert_eq!(
            OfferDelivery::parse_uri(&uri).expect("uri"),
            OfferDelivery::ByValue(o)
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = OfferDelivery::parse_uri(text);
    }
}

/// OID4VCI credential request parsing (§8.2): never panics; what parses has exactly one target
/// and a bounded number of proofs.
pub fn oid4vci_credential_request(data: &[u8]) {
    if let Ok(r) = CredentialRequest::from_json(data) {
        assert!(r.proofs.len() <= MAX_PROOFS);
        match &r.target {
            CredentialTarget::Identifier(s) | CredentialTarget::Configuration(s) => {
                assert!(!s.is_empty())
            }
            _ => {}
        }
    }
}

/// OID4VCI `jwt` key proofs (Appendix F.1): arbitrary text never panics the checker, and
/// nothing accepted lacks a nonce or carries a private key.
pub fn oid4vci_proof_jwt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let algs = [
        JwsAlgorithm::ES256,
        JwsAlgorithm::EdDSA,
        JwsAlgorithm::RS256,
    ];
    let rules = ProofRules::new("https://issuer.example", Some("wallet"), &algs, NOW);
    if let Ok(p) = check_jwt_proof(text, &rules) {
        assert!(!p.nonce.is_empty());
        assert!(!p.jwk.is_private());
    }
}
