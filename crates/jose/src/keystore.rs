//! The `KeyStore` port: which key signs now, which keys still verify, what to publish.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::alg::JwsAlgorithm;
use crate::jwks::{JwkSet, KeySet};
use crate::key::Key;
use crate::signer::{LocalSigner, Signer};
use crate::{Error, Result};

/// Key material for an issuer: the current signing key per algorithm, plus the keys that still
/// verify (current and retiring), and the public JWKS document.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The signer for new tokens: for `alg` if given, else the default (first) one.
    async fn signer(&self, alg: Option<JwsAlgorithm>) -> Result<Arc<dyn Signer>>;
    /// Every key that may verify tokens this issuer produced.
    async fn verification_keys(&self) -> Result<Arc<KeySet>>;
    /// The public JWK Set to serve at `jwks_uri`.
    async fn public_jwks(&self) -> Result<JwkSet>;
}

#[derive(Debug)]
struct Ring {
    active: Vec<Arc<LocalSigner>>,
    /// Keys no longer used for signing, published until the instant (NumericDate) given.
    retiring: Vec<(Key, i64)>,
    verification: Arc<KeySet>,
}

impl Ring {
    fn rebuild(&mut self) {
        let mut keys: Vec<Key> = self.active.iter().map(|s| s.key().clone()).collect();
        keys.extend(self.retiring.iter().map(|(k, _)| k.clone()));
        self.verification = Arc::new(KeySet::new(keys));
    }
}

/// An in-memory [`KeyStore`] with rotation: a new key becomes active at once, the key it replaces
/// keeps verifying (and stays in the JWKS) until its retirement time, so tokens it signed stay
/// valid until they expire.
#[derive(Debug)]
pub struct KeyRing {
    ring: RwLock<Ring>,
}

impl KeyRing {
    /// A ring whose only active signer is `signer`.
    pub fn new(signer: LocalSigner) -> Self {
        let mut ring = Ring {
            active: vec![Arc::new(signer)],
            retiring: Vec::new(),
            verification: Arc::default(),
        };
        ring.rebuild();
        KeyRing {
            ring: RwLock::new(ring),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Ring> {
        self.ring.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Ring> {
        self.ring.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `signer` the active key for its algorithm. The key it replaces (if any) verifies
    /// until `retire_at`. A signer for a new algorithm is added beside the others.
    pub fn rotate(&self, signer: LocalSigner, retire_at: i64) {
        let mut ring = self.write();
        let alg = signer.algorithm();
        if let Some(pos) = ring.active.iter().position(|s| s.algorithm() == alg) {
            let old = ring.active.remove(pos);
            ring.retiring.push((old.key().clone(), retire_at));
            ring.active.insert(pos, Arc::new(signer));
        } else {
            ring.active.push(Arc::new(signer));
        }
        ring.rebuild();
    }

    /// Drops retiring keys whose time has come.
    pub fn sweep(&self, now: i64) {
        let mut ring = self.write();
        let before = ring.retiring.len();
        ring.retiring.retain(|(_, until)| *until > now);
        if ring.retiring.len() != before {
            ring.rebuild();
        }
    }

    /// Every key that verifies now (active and retiring), synchronously.
    pub fn keys(&self) -> Arc<KeySet> {
        self.read().verification.clone()
    }

    /// The public JWK Set to publish, synchronously.
    pub fn jwks(&self) -> JwkSet {
        self.read().verification.public_jwks()
    }

    /// The current signer for `alg` (or the default), synchronously.
    pub fn current(&self, alg: Option<JwsAlgorithm>) -> Result<Arc<LocalSigner>> {
        let ring = self.read();
        let found = match alg {
            None => ring.active.first(),
            Some(alg) => ring.active.iter().find(|s| s.algorithm() == alg),
        };
        found
            .cloned()
            .ok_or_else(|| Error::KeyNotFound(format!("no active signing key for {alg:?}")))
    }
}

#[async_trait]
impl KeyStore for KeyRing {
    async fn signer(&self, alg: Option<JwsAlgorithm>) -> Result<Arc<dyn Signer>> {
        Ok(self.current(alg)? as Arc<dyn Signer>)
    }
    async fn verification_keys(&self) -> Result<Arc<KeySet>> {
        Ok(self.keys())
    }
    async fn public_jwks(&self) -> Result<JwkSet> {
        Ok(self.jwks())
    }
}
