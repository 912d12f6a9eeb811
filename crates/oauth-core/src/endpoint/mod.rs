//! The protocol endpoints, one module each. Every endpoint holds the shared
//! [`Context`](crate::Context) and turns a typed request into a typed outcome; the
//! `http` feature's `crate::http` module adapts them to `http::Request`/`http::Response`.

pub mod authorize;
pub mod device;
pub mod discovery;
pub mod end_session;
pub mod introspect;
pub mod par;
pub mod revoke;
pub mod sessions;
pub mod token;
pub mod userinfo;
