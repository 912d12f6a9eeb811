//! OID4VCI `jwt` key proofs (Appendix F.1): arbitrary text never panics the checker, and
//! nothing accepted lacks a nonce or carries a private key.
#![no_main]

use idforge_jose::JwsAlgorithm;
use idforge_oid4vci::request::{check_jwt_proof, ProofRules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let algs = [
        JwsAlgorithm::ES256,
        JwsAlgorithm::EdDSA,
        JwsAlgorithm::RS256,
    ];
    let rules = ProofRules::new(
        "https://issuer.example",
        Some("wallet"),
        &algs,
        1_800_000_000,
    );
    if let Ok(p) = check_jwt_proof(text, &rules) {
        assert!(!p.nonce.is_empty());
        assert!(!p.jwk.is_private());
    }
});
