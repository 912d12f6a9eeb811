//! XML parsing under limits plus every canonicalization method over the whole document and the
//! root element: never panics, and canonical output is itself well-formed XML.
//!
//! The body is the public entry point `idforge_testing::fuzzing::saml_xml_parse` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::saml_xml_parse(data));
