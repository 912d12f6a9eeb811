//! # idforge-saml-sp
//!
//! A pure-Rust SAML 2.0 service provider: XML parsing with limits, canonicalization, XML-DSig
//! verification designed against signature wrapping, and Response/Assertion validation.
#![forbid(unsafe_code)]

pub mod authn;
pub mod binding;
pub mod c14n;
#[cfg(feature = "testkit")]
pub mod conformance;
pub mod dsig;
pub mod error;
pub mod logout;
pub mod metadata;
pub mod model;
pub mod ports;
pub mod response;
pub mod testkit;
pub mod xml;
pub mod xmlenc;

pub use error::{Error, Result};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
