//! One user over several stores: attributes kept either in idforge's own database or in a
//! connected user store (WSO2 IS 7.3 "selectable attribute storage location").
//!
//! - [`placement`] (model and pure logic): [`AttributePlacement`], [`PlacementPolicy`],
//!   [`partition`] of a write, [`merge`] of a read, [`split_query`] of a lookup.
//! - [`federated`] (logic over the ports): [`FederatedUsers`], the composite that implements
//!   [`ClaimsSource`](crate::ports::ClaimsSource),
//!   [`PasswordVerifier`](crate::ports::PasswordVerifier) and
//!   [`UserLookup`](crate::ports::UserLookup) over connected stores
//!   ([`ConnectedUserStore`](crate::ports::ConnectedUserStore)), the local attributes
//!   ([`LocalAttributeStore`](crate::ports::LocalAttributeStore)) and, optionally, local-only
//!   users.

pub mod federated;
pub mod placement;

pub use federated::{FederatedUsers, FederatedUsersBuilder, LocalUsers};
pub use placement::{
    merge, partition, split_query, AttributePlacement, Pairs, Partition, PlacementError,
    PlacementPolicy, Storage, Written,
};
