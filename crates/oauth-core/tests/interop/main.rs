//! Interop with real relying parties (ARCHITECTURE: `tests/interop/`).
#![allow(clippy::unwrap_used)]

mod openidconnect_rs;
