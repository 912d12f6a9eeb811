//! # idforge-orgs
//!
//! B2B organizations as a sans-IO library on `idforge-oauth-core`'s public API: a hierarchy of
//! organizations to any depth, users resident in one organization and shared into others by
//! WSO2's sharing policies (future organizations included) with roles per organization,
//! applications per organization with token issuer selection under root governance, the
//! `organization_switch` grant with organization claims, organization claims on
//! authorization-code tokens (`OrganizationAuthorization`, an oauth-core
//! `AuthorizationExtension`), organization and home-realm discovery, and settings inherited
//! down the tree.
//!
//! Layers, each importing only the ones above it: model (`error`, `model`, `settings`) →
//! ports (`ports`) → logic (`hierarchy`, `sharing`, `issuer`, `discovery`, `api`, `home`,
//! `switch`, `authorize`)
//! → `memory` / `testkit`. Decisions are pure functions (`hierarchy::check_move`,
//! `sharing::plan`, `sharing::membership`, `issuer::select`, `switch::decide`,
//! `settings::resolve`); the async functions around them only read and write the ports.
//!
//! Features: `memory` (default) in-memory stores; `testkit` the conformance suites of the three
//! ports.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

// Model.
mod error;
pub mod model;
pub mod settings;
// Ports.
pub mod ports;
// Logic.
pub mod api;
pub mod authorize;
pub mod discovery;
pub mod hierarchy;
pub mod home;
pub mod issuer;
pub mod sharing;
pub mod switch;
// Implementations.
#[cfg(feature = "memory")]
pub mod memory;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use authorize::OrganizationAuthorization;
pub use error::{OrgError, Result};
pub use hierarchy::{DeletePolicy, NewOrganization};
pub use home::{OrgHome, Standing};
pub use issuer::{RootIssuerPolicy, TokenIssuer};
pub use model::{
    Application, IdentityKind, IssuerMode, OrgId, OrgStatus, Organization, Reach, Resident, Role,
    ShareRule, SharedWith, UserShares,
};
pub use ports::{OrganizationStore, RoleStore, SharingStore};
pub use settings::{EffectiveSettings, OrgSettings, TrustedTokenIssuer};
pub use sharing::{Membership, OrgShare, SharePolicy};
pub use switch::{OrganizationParameter, OrganizationSwitchGrant};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
