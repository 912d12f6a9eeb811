//! Negative fixtures: tokens a correct verifier must reject, each one defect away from a
//! valid token the issuer minted ([`Defect`]), for the security tests of users' code.
//!
//! Every fixture but the signature ones is re-signed with a key the verifier trusts (or
//! claims to), so the only reason to reject it is the defect itself.

use idforge_jose::crypto::{self, HashAlg};
use idforge_jose::{b64, Header, LocalSigner, Signer};
use serde_json::{json, Map, Value};

use crate::error::TestError;
use crate::mint::{AccessTokenSpec, IdTokenSpec};
use crate::provider::TestIssuer;

/// The issuer identifier of [`Defect::WrongIssuer`] fixtures (`.invalid`, RFC 6761 §6.4).
pub const WRONG_ISSUER: &str = "https://wrong-issuer.invalid";
/// The audience of [`Defect::WrongAudience`] fixtures.
pub const WRONG_AUDIENCE: &str = "https://wrong-audience.invalid";

/// One reason a token must be rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Defect {
    /// `exp` ten minutes in the past (RFC 7519 §4.1.4: beyond the usual leeways of a minute
    /// or five); `iat` moved back by the lifetime.
    Expired,
    /// `nbf` and `iat` an hour in the future (RFC 7519 §4.1.5).
    NotYetValid,
    /// `iss` is [`WRONG_ISSUER`] (OIDC Core §3.1.3.7 item 2, RFC 9068 §4).
    WrongIssuer,
    /// `aud` is [`WRONG_AUDIENCE`] (RFC 7519 §4.1.3).
    WrongAudience,
    /// The header's `typ` swapped: `JWT` on an access token, `at+jwt` on an ID token (RFC
    /// 9068 §4, RFC 8725 §3.11).
    WrongTyp,
    /// One bit of the signature flipped (RFC 7515 §5.2).
    TamperedSignature,
    /// A `kid` the JWKS does not have, signed by the current key (RFC 7515 §4.1.4).
    UnknownKid,
    /// `alg: none` and an empty signature (RFC 8725 §2.1, §3.1).
    AlgNone,
    /// `alg: HS256` with the HMAC keyed by the issuer's public key as SPKI PEM (RFC 8725
    /// §2.1, §3.1: key confusion).
    KeyConfusion,
    /// Signed by a key the issuer rotated away (no longer in its JWKS), with that key's own
    /// `kid`.
    RotatedAwayKey,
}

impl Defect {
    /// Every defect.
    pub const ALL: [Defect; 10] = [
        Defect::Expired,
        Defect::NotYetValid,
        Defect::WrongIssuer,
        Defect::WrongAudience,
        Defect::WrongTyp,
        Defect::TamperedSignature,
        Defect::UnknownKid,
        Defect::AlgNone,
        Defect::KeyConfusion,
        Defect::RotatedAwayKey,
    ];

    /// A short name (`expired`, `not_yet_valid`, ...), as the control endpoint takes it.
    pub fn name(self) -> &'static str {
        match self {
            Defect::Expired => "expired",
            Defect::NotYetValid => "not_yet_valid",
            Defect::WrongIssuer => "wrong_issuer",
            Defect::WrongAudience => "wrong_audience",
            Defect::WrongTyp => "wrong_typ",
            Defect::TamperedSignature => "tampered_signature",
            Defect::UnknownKid => "unknown_kid",
            Defect::AlgNone => "alg_none",
            Defect::KeyConfusion => "key_confusion",
            Defect::RotatedAwayKey => "rotated_away_key",
        }
    }

    /// The defect named `name` ([`Defect::name`]).
    pub fn from_name(name: &str) -> Option<Defect> {
        Defect::ALL.into_iter().find(|d| d.name() == name)
    }
}

impl TestIssuer {
    /// An access token for `spec` with `defect`.
    pub async fn invalid_access_token(
        &self,
        spec: &AccessTokenSpec,
        defect: Defect,
    ) -> Result<String, TestError> {
        let valid = self.issue_access_token(spec).await?;
        self.corrupt(&valid, defect)
    }

    /// An ID token for `spec` with `defect`.
    pub async fn invalid_id_token(
        &self,
        spec: &IdTokenSpec,
        defect: Defect,
    ) -> Result<String, TestError> {
        let valid = self.issue_id_token(spec).await?;
        self.corrupt(&valid, defect)
    }

    /// `token` (one of this issuer's compact JWS) with `defect`.
    pub fn corrupt(&self, token: &str, defect: Defect) -> Result<String, TestError> {
        let (mut header, mut claims, signature) = split(token)?;
        let now = self.now();
        let current = self.inner.ring.current(None)?;
        match defect {
            Defect::Expired => {
                let lifetime = lifetime(&claims);
                claims.insert("exp".into(), json!(now - 600));
                claims.insert("iat".into(), json!(now - 600 - lifetime));
                if claims.contains_key("auth_time") {
                    claims.insert("auth_time".into(), json!(now - 600 - lifetime));
                }
            }
            Defect::NotYetValid => {
                let lifetime = lifetime(&claims);
                claims.insert("nbf".into(), json!(now + 3600));
                claims.insert("iat".into(), json!(now + 3600));
                claims.insert("exp".into(), json!(now + 3600 + lifetime));
            }
            Defect::WrongIssuer => {
                claims.insert("iss".into(), json!(WRONG_ISSUER));
            }
            Defect::WrongAudience => {
                claims.insert("aud".into(), json!(WRONG_AUDIENCE));
            }
            Defect::WrongTyp => {
                let typ = match header.get("typ").and_then(Value::as_str) {
                    Some(t) if t.eq_ignore_ascii_case("at+jwt") => "JWT",
                    _ => "at+jwt",
                };
                header.insert("typ".into(), json!(typ));
            }
            Defect::TamperedSignature => {
                let mut sig = b64::decode(signature, "signature")?;
                if let Some(b) = sig.first_mut() {
                    *b ^= 0x01;
                }
                let (h, p, _) = parts(token)?;
                return Ok(format!("{h}.{p}.{}", b64::encode(sig)));
            }
            Defect::UnknownKid => {
                let kid = header.get("kid").and_then(Value::as_str).unwrap_or("key");
                header.insert("kid".into(), json!(format!("unknown-{kid}")));
            }
            Defect::AlgNone => {
                header.insert("alg".into(), json!("none"));
                let input = encode_input(&header, &claims)?;
                return Ok(format!("{input}."));
            }
            Defect::KeyConfusion => {
                header.insert("alg".into(), json!("HS256"));
                let public = current
                    .key()
                    .public_key()
                    .ok_or_else(|| TestError::Unexpected("no public key".into()))?;
                let pem = crypto::public_key_to_pem(public)?;
                let input = encode_input(&header, &claims)?;
                let mac = crypto::hmac(HashAlg::Sha256, &pem, input.as_bytes())
                    .map_err(|_| TestError::Unexpected("HMAC failed".into()))?;
                return Ok(format!("{input}.{}", b64::encode(mac)));
            }
            Defect::RotatedAwayKey => {
                let published = self.jwks();
                let retired = self
                    .retired_signer()
                    .filter(|s| {
                        let kid = s.key().kid();
                        !published.keys.iter().any(|k| k.kid.as_deref() == kid)
                    })
                    .ok_or_else(|| {
                        TestError::Unexpected("every rotated key is still published".into())
                    })?;
                if let Some(kid) = retired.key().kid() {
                    header.insert("kid".into(), json!(kid));
                }
                return sign(&header, &claims, &retired);
            }
        }
        sign(&header, &claims, &current)
    }
}

fn lifetime(claims: &Map<String, Value>) -> i64 {
    let get = |n: &str| claims.get(n).and_then(Value::as_i64);
    match (get("exp"), get("iat")) {
        (Some(exp), Some(iat)) if exp > iat => exp - iat,
        _ => 3600,
    }
}

fn parts(token: &str) -> Result<(&str, &str, &str), TestError> {
    let mut it = token.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h, p, s)),
        _ => Err(TestError::Unexpected("not a compact JWS".into())),
    }
}

type Parts<'a> = (Map<String, Value>, Map<String, Value>, &'a str);

fn split(token: &str) -> Result<Parts<'_>, TestError> {
    let (h, p, s) = parts(token)?;
    let object = |part: &str, what: &'static str| -> Result<Map<String, Value>, TestError> {
        serde_json::from_slice(&b64::decode(part, what)?)
            .map_err(|_| TestError::Unexpected(format!("{what} is not a JSON object")))
    };
    Ok((object(h, "header")?, object(p, "payload")?, s))
}

fn encode_input(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> Result<String, TestError> {
    let h = serde_json::to_vec(header).map_err(|e| TestError::Unexpected(e.to_string()))?;
    let p = serde_json::to_vec(claims).map_err(|e| TestError::Unexpected(e.to_string()))?;
    Ok(format!("{}.{}", b64::encode(h), b64::encode(p)))
}

/// Signs `claims` under `header` (its `alg` set to the signer's) with `signer`.
fn sign(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    signer: &LocalSigner,
) -> Result<String, TestError> {
    let mut header = header.clone();
    header.insert("alg".into(), json!(signer.algorithm().name()));
    let payload = serde_json::to_vec(claims).map_err(|e| TestError::Unexpected(e.to_string()))?;
    Ok(idforge_jose::jws::sign_compact(
        Header::from_map(header),
        &payload,
        signer,
    )?)
}
