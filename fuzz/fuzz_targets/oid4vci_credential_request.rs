//! OID4VCI credential request parsing (§8.2): never panics; what parses has exactly one target
//! and a bounded number of proofs.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oid4vci_credential_request` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oid4vci_credential_request(data));
