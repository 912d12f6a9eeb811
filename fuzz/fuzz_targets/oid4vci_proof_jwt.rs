//! OID4VCI `jwt` key proofs (Appendix F.1): arbitrary text never panics the checker, and
//! nothing accepted lacks a nonce or carries a private key.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oid4vci_proof_jwt` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oid4vci_proof_jwt(data));
