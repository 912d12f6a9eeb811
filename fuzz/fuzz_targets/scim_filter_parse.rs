//! Fuzz the SCIM filter parser (RFC 7644 §3.4.2.2): no input may panic; whatever parses must
//! print canonically, re-parse to the same tree, and go through validation, evaluation and both
//! translations without panicking.
//!
//! The body is the public entry point `idforge_testing::fuzzing::scim_filter_parse` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::scim_filter_parse(data));
