//! The `Signer` and `Verifier` ports and their local-key implementations.

use async_trait::async_trait;

use crate::alg::JwsAlgorithm;
use crate::crypto;
use crate::key::Key;
use crate::{Error, Result};

/// Something that produces JWS signatures: a local key, a KMS, an HSM.
///
/// Async so a remote signer can await its service; local keys also offer
/// [`LocalSigner::sign_sync`], which the JWS layer uses directly when it has one.
#[async_trait]
pub trait Signer: Send + Sync {
    /// The algorithm every signature from this signer uses.
    fn algorithm(&self) -> JwsAlgorithm;
    /// The `kid` to put in the JOSE header, if any.
    fn key_id(&self) -> Option<&str>;
    /// Signs the JWS signing input (`BASE64URL(header) || '.' || payload`).
    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>>;
}

/// A verification port: checks a signature for an algorithm the caller already allowed.
///
/// Synchronous on purpose: verification uses public keys the host already holds (a JWKS it
/// fetched and cached), so there is nothing to await, and a sync API keeps token parsing cheap.
pub trait Verifier: Send + Sync {
    /// Verifies `signature` over `signing_input` with `alg`. `kid` is the header's `kid`, used to
    /// choose among several keys. `Err(InvalidSignature)` when no suitable key verifies it.
    fn verify(
        &self,
        alg: JwsAlgorithm,
        kid: Option<&str>,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<()>;
}

/// A [`Signer`] over a local private (or `oct`) key, with a synchronous fast path.
#[derive(Debug, Clone)]
pub struct LocalSigner {
    key: Key,
    alg: JwsAlgorithm,
}

impl LocalSigner {
    /// Pairs `key` with `alg`; fails when the key does not fit or has no private part.
    pub fn new(key: Key, alg: JwsAlgorithm) -> Result<Self> {
        alg.check_key(&key)?;
        if !key.is_private() {
            return Err(Error::PrivateKeyRequired);
        }
        if !key.jwk().permits("sign") {
            return Err(Error::KeyMismatch(
                "key `use`/`key_ops` do not permit signing".into(),
            ));
        }
        Ok(LocalSigner { key, alg })
    }

    /// The key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Signs synchronously.
    pub fn sign_sync(&self, signing_input: &[u8]) -> Result<Vec<u8>> {
        sign_with_key(&self.key, self.alg, signing_input)
    }
}

/// Signs `data` with `key` under `alg` (the key must already have passed `alg.check_key`).
pub(crate) fn sign_with_key(key: &Key, alg: JwsAlgorithm, data: &[u8]) -> Result<Vec<u8>> {
    match alg.scheme() {
        None => {
            let secret = key
                .secret()
                .ok_or_else(|| Error::KeyMismatch("HMAC needs an oct key".into()))?;
            crypto::hmac(alg.hash(), secret, data).map_err(|_| Error::Backend)
        }
        Some(scheme) => crypto::sign(key.private_key()?, scheme, data).map_err(|_| Error::Backend),
    }
}

#[async_trait]
impl Signer for LocalSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        self.alg
    }
    fn key_id(&self) -> Option<&str> {
        self.key.kid()
    }
    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>> {
        self.sign_sync(signing_input)
    }
}

/// Verifies with one key: checks fit (type, size, `alg`, `use`) first, then the primitive.
pub(crate) fn verify_with_key(
    key: &Key,
    alg: JwsAlgorithm,
    data: &[u8],
    signature: &[u8],
) -> Result<()> {
    alg.check_key(key)?;
    if !key.jwk().permits("verify") {
        return Err(Error::KeyMismatch(
            "key `use`/`key_ops` do not permit verification".into(),
        ));
    }
    let ok = match alg.scheme() {
        None => {
            let secret = key
                .secret()
                .ok_or_else(|| Error::KeyMismatch("HMAC needs an oct key".into()))?;
            let mac = crypto::hmac(alg.hash(), secret, data).map_err(|_| Error::Backend)?;
            crypto::ct_eq(&mac, signature)
        }
        Some(scheme) => {
            let public = key
                .public_key()
                .ok_or_else(|| Error::KeyMismatch("not an asymmetric key".into()))?;
            crypto::verify(public, scheme, data, signature).map_err(|_| Error::InvalidSignature)?
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidSignature)
    }
}

impl Verifier for Key {
    fn verify(
        &self,
        alg: JwsAlgorithm,
        kid: Option<&str>,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        if let (Some(want), Some(have)) = (kid, self.kid()) {
            if want != have {
                return Err(Error::KeyNotFound(format!("no key with kid `{want}`")));
            }
        }
        verify_with_key(self, alg, signing_input, signature)
    }
}

impl Verifier for LocalSigner {
    fn verify(
        &self,
        alg: JwsAlgorithm,
        kid: Option<&str>,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        self.key.verify(alg, kid, signing_input, signature)
    }
}
