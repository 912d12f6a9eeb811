//! Token Status List (draft-ietf-oauth-status-list): 1-bit lists compressed with zlib, the
//! status list token (`typ` `statuslist+jwt`), and a resolver for the `sd-jwt` verifier.

use std::io::{Read, Write};
use std::sync::Arc;

use async_trait::async_trait;
use flate2::{read::ZlibDecoder, write::ZlibEncoder, Compression};
use idforge_jose::{b64, jws, Clock, Header, JwsAlgorithm, JwsPolicy, Signer, Verifier};
use idforge_sd_jwt::{StatusListReference, StatusListResolver, StatusValue};
use serde_json::{json, Map, Value};

/// The status list token `typ` (§5.1).
pub const STATUS_LIST_TYP: &str = "statuslist+jwt";
/// The status list token media type (§5.1, §8.1 `Content-Type`).
pub const STATUS_LIST_MEDIA_TYPE: &str = "application/statuslist+jwt";
/// Largest decompressed list a resolver accepts (bytes).
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;
/// Largest status list token a resolver accepts (bytes).
pub const MAX_TOKEN_BYTES: usize = 4 * 1024 * 1024;

/// Packs `values` (0 = valid, 1 = invalid) one bit each, entry `i` in byte `i / 8` at bit
/// `i % 8` counted from the least significant bit (§4.1), zlib-compressed, base64url (`lst`).
pub fn encode_lst(values: &[u8]) -> Result<String, std::io::Error> {
    let mut bytes = vec![0u8; values.len().div_ceil(8)];
    for (i, v) in values.iter().enumerate() {
        if *v & 1 == 1 {
            bytes[i / 8] |= 1 << (i % 8);
        }
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    z.write_all(&bytes)?;
    Ok(b64::encode(&z.finish()?))
}

/// Reads entry `idx` of a 1-bit `lst` (§4.1), decompressing at most [`MAX_LIST_BYTES`].
pub fn read_lst(lst: &str, bits: u8, idx: u64) -> Result<u8, idforge_sd_jwt::Error> {
    let bad = |m: &str| idforge_sd_jwt::Error::InvalidStatus(m.into());
    if bits != 1 {
        return Err(bad("only 1-bit status lists are supported"));
    }
    let compressed = b64::decode(lst, "lst").map_err(|_| bad("`lst` is not base64url"))?;
    let mut out = Vec::new();
    ZlibDecoder::new(compressed.as_slice())
        .take(MAX_LIST_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| bad("`lst` is not zlib"))?;
    if out.len() > MAX_LIST_BYTES {
        return Err(bad("status list too large"));
    }
    let byte = usize::try_from(idx / 8)
        .ok()
        .and_then(|i| out.get(i))
        .ok_or_else(|| bad("index outside the status list"))?;
    Ok((byte >> (idx % 8)) & 1)
}

/// Signs a status list token (§5.1): header `typ` `statuslist+jwt`; claims `sub` (the list's
/// URI, which the referenced token names), `iat`, `exp`, `ttl`, `status_list {bits: 1, lst}`.
pub async fn sign_status_list_token(
    uri: &str,
    values: &[u8],
    iat: i64,
    ttl: i64,
    signer: &dyn Signer,
) -> Result<String, idforge_oauth_core::Error> {
    let lst = encode_lst(values)
        .map_err(|_| idforge_oauth_core::Error::ServerError("status list encoding".into()))?;
    let claims = json!({
        "sub": uri,
        "iat": iat,
        "exp": iat + ttl,
        "ttl": ttl,
        "status_list": {"bits": 1, "lst": lst},
    });
    jws::sign_compact_with(
        Header::new().with_typ(STATUS_LIST_TYP),
        claims.to_string().as_bytes(),
        signer,
    )
    .await
    .map_err(|_| idforge_oauth_core::Error::ServerError("status list signing failed".into()))
}

/// Fetches status list tokens by URI (the host's HTTP client, with its caching; §8).
#[async_trait]
pub trait StatusListFetcher: Send + Sync {
    /// The status list token served at `uri`.
    async fn fetch(&self, uri: &str) -> Result<String, idforge_sd_jwt::Error>;
}

/// A [`StatusListResolver`] for the `sd-jwt` verifier over status list tokens: fetches the
/// token, verifies its signature with the issuer's keys, `typ`, `sub` = the referenced `uri`
/// (§8.3 step 3), `exp`, and reads the entry.
pub struct StatusListTokenResolver {
    fetcher: Arc<dyn StatusListFetcher>,
    keys: Arc<dyn Verifier>,
    algorithms: Vec<JwsAlgorithm>,
    clock: Arc<dyn Clock>,
}

impl StatusListTokenResolver {
    /// A resolver verifying with `keys` and `algorithms`, time from `clock`.
    pub fn new(
        fetcher: Arc<dyn StatusListFetcher>,
        keys: Arc<dyn Verifier>,
        algorithms: impl IntoIterator<Item = JwsAlgorithm>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        StatusListTokenResolver {
            fetcher,
            keys,
            algorithms: algorithms.into_iter().collect(),
            clock,
        }
    }
}

impl std::fmt::Debug for StatusListTokenResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusListTokenResolver")
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl StatusListResolver for StatusListTokenResolver {
    async fn status(&self, r: &StatusListReference) -> Result<StatusValue, idforge_sd_jwt::Error> {
        let bad = |m: &str| idforge_sd_jwt::Error::InvalidStatus(m.into());
        let token = self.fetcher.fetch(&r.uri).await?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad("status list token too large"));
        }
        let v = JwsPolicy::new(self.algorithms.iter().copied())
            .verify_compact(&token, self.keys.as_ref())
            .map_err(|_| bad("status list token signature"))?;
        if v.header.typ() != Some(STATUS_LIST_TYP) {
            return Err(bad("status list token `typ`"));
        }
        let claims: Map<String, Value> =
            serde_json::from_slice(&v.payload).map_err(|_| bad("status list token payload"))?;
        if claims.get("sub").and_then(Value::as_str) != Some(r.uri.as_str()) {
            return Err(bad("status list token `sub` is not the referenced uri"));
        }
        if claims.get("iat").and_then(Value::as_i64).is_none() {
            return Err(bad("status list token `iat`"));
        }
        if let Some(exp) = claims.get("exp") {
            if exp.as_i64().is_none_or(|e| e <= self.clock.now()) {
                return Err(bad("status list token expired"));
            }
        }
        let list = claims
            .get("status_list")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("`status_list` missing"))?;
        let bits = list
            .get("bits")
            .and_then(Value::as_u64)
            .and_then(|b| u8::try_from(b).ok())
            .ok_or_else(|| bad("`bits`"))?;
        let lst = list
            .get("lst")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`lst`"))?;
        Ok(StatusValue::from_u8(read_lst(lst, bits, r.idx)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_bits() {
        // draft-ietf-oauth-status-list §4.1 example: statuses 1,0,0,1,1,1,0,1 | 1,1,0,0,0,1,0,1
        // give bytes 0xB9 0xA3.
        let values = [1u8, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
        let lst = encode_lst(&values).unwrap();
        let mut raw = Vec::new();
        ZlibDecoder::new(b64::decode(&lst, "lst").unwrap().as_slice())
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw, vec![0xB9, 0xA3]);
        for (i, v) in values.iter().enumerate() {
            assert_eq!(read_lst(&lst, 1, i as u64).unwrap(), *v);
        }
        assert!(read_lst(&lst, 1, 16).is_err());
        assert!(read_lst(&lst, 2, 0).is_err());
        assert!(read_lst("!!", 1, 0).is_err());
    }

    #[test]
    fn the_spec_lst_decodes() {
        // §4.1: `lst` "eNrbuRgAAhcBXQ" encodes 0xB9 0xA3.
        let expected = [1u8, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
        for (i, v) in expected.iter().enumerate() {
            assert_eq!(read_lst("eNrbuRgAAhcBXQ", 1, i as u64).unwrap(), *v);
        }
    }
}
