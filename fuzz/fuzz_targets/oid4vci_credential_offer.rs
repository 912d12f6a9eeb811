//! OID4VCI credential offers (§4.1): JSON offers and offer URIs never panic; what parses
//! re-serializes to the same offer.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oid4vci_credential_offer` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oid4vci_credential_offer(data));
