//! # idforge-ciba
//!
//! OpenID Connect Client-Initiated Backchannel Authentication (CIBA Core 1.0) as a sans-IO
//! library on the public API of `idforge-oauth-core`: an ambient agent asks the provider to act
//! for a user, the user approves or denies on their own device, and the agent gets a token
//! scoped to that task, carrying who acts (`act`).
//!
//! - All three token delivery modes: poll, ping (CIBA §10.2) and push (§10.3), the errors of
//!   §11 and §13 with their statuses.
//! - The backchannel authentication endpoint ([`Ciba::backchannel`]): confidential clients,
//!   hints (`login_hint`, `login_hint_token`, `id_token_hint`), `binding_message`,
//!   `user_code`, `requested_expiry`, signed requests (§7.1.1), RFC 9396
//!   `authorization_details` and RFC 8707 `resource` to scope the token to one task, and
//!   on-behalf-of requests with an `actor_token` naming an agent.
//! - Approval through a handle distinct from `auth_req_id` ([`Ciba::approval_view`],
//!   [`Ciba::decide`]): only the user the hint resolved to may answer.
//! - The state machine ([`CibaRequest`]: `Pending -> Approved | Denied | Expired`,
//!   `Approved -> Redeemed`) with typed transition errors, applied atomically by the store.
//! - Ports the host implements ([`ports`]): [`CibaRequestStore`], [`UserResolver`],
//!   [`ActorResolver`], [`Notifier`] (email, SMS, ping, push). Feature `memory` (default):
//!   in-memory ones; `testkit`: the store conformance suite; `http`: the endpoint as an
//!   oauth-core `HttpEndpoints`.
//!
//! Layers, each importing only the ones above it: `model` (configuration, client metadata, the
//! request record and its state machine) → `validate` (the request rules, pure) → `ports` →
//! `notify` (notification payloads, pure) → `endpoint`, `http` → `memory` / `testkit`.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

// Model.
pub mod model;
// Logic: the request rules.
pub mod validate;
// Ports.
pub mod ports;
// Logic: notification payloads (of the ports' types).
pub mod notify;
// Endpoints.
pub mod endpoint;
#[cfg(feature = "http")]
pub mod http;
// Implementations.
#[cfg(feature = "memory")]
pub mod memory;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use endpoint::{
    AgentClientActors, ApprovalView, BackchannelResponse, BuildError, Ciba, CibaBuilder, CibaGrant,
    DecisionOutcome,
};
pub use model::{
    ActorPolicy, Approval, BindingMessageRules, Channel, CharacterSet, CibaClient, CibaConfig,
    CibaRequest, DeliveryMode, PollCheck, RequestState, StateName, TransitionError, Verdict,
    GRANT_TYPE,
};
pub use ports::{
    Actor, ActorResolver, CibaRequestStore, ClientNotification, DeliveryReport, HintResolution,
    Notifier, Polled, Redemption, Transition, UserNotification, UserResolver,
};
pub use validate::Hint;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
