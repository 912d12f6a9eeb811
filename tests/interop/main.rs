//! Interoperability with independent JOSE implementations: npm `jose` v6 (Node.js) and Python
//! `jwcrypto`, installed into `target/peers` by `.ci/interop.sh` (or `$IDFORGE_PEERS_DIR`).
//!
//! - [`jws_matrix`]: every JWS algorithm, idforge signs and the peer verifies, and the reverse;
//! - [`jwe_matrix`]: every JWE `alg` × `enc` pair (RSA-OAEP*, ECDH-ES(+A*KW) on P-256/384/521 and
//!   X25519, A*KW, dir × six `enc`), idforge encrypts and the peer decrypts, and the reverse;
//! - [`bad_inputs`]: tokens made by the peers, then truncated, bit-flipped, alg-swapped, given
//!   an invalid-curve `epk`, or compressed into a zip bomb, each give a typed error.
//!
//! Each peer runs once per test with the whole batch of operations (see `peers/*.{mjs,py}`).
//! An absent peer is a skip (a `skipped:` line) unless `IDFORGE_INTEROP=require`, which turns
//! it into a failure. Run with `--nocapture` to see the result matrices.

mod bad_inputs;
mod jwe_matrix;
mod jws_matrix;
mod peers;
