//! A real idforge identity provider made deterministic and scriptable for the test suites of
//! applications that use one (relying parties, resource servers, wallets, SAML SPs), and
//! fuzzing entry points for users' own fuzz targets.
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod saml;
pub mod sd_jwt;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
