//! Fuzz the organization sharing API's request parsing (WSO2 v2 User Sharing shapes) and its
//! PATCH path (`organizations[orgId eq "…"].roles`, through scim-filter): no input may panic;
//! what validates stays within the limits, and a parsed path's organization prints into a path
//! that parses back to it.
//!
//! The body is the public entry point `idforge_testing::fuzzing::orgs_sharing_api` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::orgs_sharing_api(data));
