//! Building credentials from a template and the user's claims: SD-JWT VC (`dc+sd-jwt`,
//! Appendix A.3) through the `sd-jwt` crate and W3C JWT VCs (`jwt_vc_json`, Appendix A.1).

use std::borrow::Cow;

use idforge_jose::{jws, Header, Jwk, Signer};
use idforge_oauth_core::secret::PortRng;
use idforge_oauth_core::{Error, Rng};
use idforge_sd_jwt::{ClaimPath, Issuance, IssuerConfig, VcIssuer};
use serde_json::{json, Map, Value};

use crate::error::CredentialErrorCode;
use crate::template::{ClaimTemplate, CredentialFormat, CredentialTemplate};

/// Selects the template's claims from the user's claims: each claim's `path` is looked up in
/// `user` and set at the same path. A missing mandatory claim refuses issuance
/// (`credential_request_denied`, §8.3.1.2); a missing optional one is left out.
pub fn map_claims(
    template: &CredentialTemplate,
    user: &Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let mut out = Map::new();
    for c in &template.claims {
        set_claim(&mut out, c, lookup(user, &c.path).cloned())?;
    }
    Ok(out)
}

/// [`map_claims`] over claims the caller owns (a claims source's copy): top-level claims are
/// moved, not cloned. Nested paths are read first, while `user` is whole, so a template naming
/// both `address` and `address.locality` gets the same result as [`map_claims`] (the whole
/// `address`, set last); a claim named twice finds its value already in the output.
pub(crate) fn map_claims_owned(
    template: &CredentialTemplate,
    mut user: Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let mut out = Map::new();
    for c in template.claims.iter().filter(|c| c.path.len() > 1) {
        set_claim(&mut out, c, lookup(&user, &c.path).cloned())?;
    }
    for c in template.claims.iter().filter(|c| c.path.len() == 1) {
        let name = &c.path[0];
        let v = match user.remove(name) {
            Some(v) => Some(v),
            // Named before: the value is in `out` already (null values never are).
            None => out.get(name).cloned(),
        };
        set_claim(&mut out, c, v)?;
    }
    Ok(out)
}

fn lookup<'v>(user: &'v Map<String, Value>, path: &[String]) -> Option<&'v Value> {
    let mut v = user.get(&path[0]);
    for seg in &path[1..] {
        v = v.and_then(|x| x.get(seg));
    }
    v
}

/// Sets `c`'s path in `out` to `v`; a missing (or null) value refuses a mandatory claim.
fn set_claim(
    out: &mut Map<String, Value>,
    c: &ClaimTemplate,
    v: Option<Value>,
) -> Result<(), Error> {
    match v {
        Some(v) if !v.is_null() => {
            let mut slot = out;
            for seg in &c.path[..c.path.len() - 1] {
                let entry = slot
                    .entry(seg.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                let Value::Object(next) = entry else {
                    unreachable!("just made an object")
                };
                slot = next;
            }
            slot.insert(c.path[c.path.len() - 1].clone(), v);
            Ok(())
        }
        _ if c.mandatory => Err(CredentialErrorCode::CredentialRequestDenied
            .error(format!("the user has no `{}`", c.name()))),
        _ => Ok(()),
    }
}

/// What goes into one credential besides the template's claims.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CredentialInput<'a> {
    /// The Credential Issuer Identifier (`iss`).
    pub issuer: &'a str,
    /// The subject's claims, already mapped ([`map_claims`]).
    pub claims: &'a Map<String, Value>,
    /// The holder key (`cnf.jwk`), for bound credentials.
    pub holder_key: Option<&'a Jwk>,
    /// The status list entry (`status.status_list`), if any: `(idx, uri)`.
    pub status: Option<(u64, String)>,
    /// Issue time.
    pub now: i64,
}

impl<'a> CredentialInput<'a> {
    /// A credential of `issuer` about `claims`, issued at `now`, unbound and without status.
    pub fn new(issuer: &'a str, claims: &'a Map<String, Value>, now: i64) -> Self {
        CredentialInput {
            issuer,
            claims,
            holder_key: None,
            status: None,
            now,
        }
    }

    /// Bound to `jwk` (`cnf.jwk`).
    pub fn with_holder_key(mut self, jwk: &'a Jwk) -> Self {
        self.holder_key = Some(jwk);
        self
    }

    /// With the status list entry `idx` of the list at `uri`.
    pub fn with_status(mut self, idx: u64, uri: impl Into<String>) -> Self {
        self.status = Some((idx, uri.into()));
        self
    }
}

/// Builds and signs one credential of `template`.
///
/// - `dc+sd-jwt`: `iss`, `iat`, `exp`, `vct`, `cnf`, `status` are plain (never disclosable,
///   SD-JWT VC draft §3.2.2); the template's `selectively_disclosable` claims are Disclosures.
/// - `jwt_vc_json`: a JWT (`typ` `JWT`) with `iss`, `iat`, `nbf`, `exp`, `cnf`, `status` and
///   `vc` (`@context`, `type`, `issuer`, `credentialSubject`).
pub async fn build_credential(
    template: &CredentialTemplate,
    input: &CredentialInput<'_>,
    signer: &dyn Signer,
    rng: &dyn Rng,
) -> Result<String, Error> {
    build(template, input, Cow::Borrowed(input.claims), signer, rng).await
}

/// [`build_credential`] with the claims given apart from `input` (whose `claims` is then not
/// read): owned claims go into the SD-JWT as they are instead of being copied first.
pub(crate) async fn build(
    template: &CredentialTemplate,
    input: &CredentialInput<'_>,
    claims: Cow<'_, Map<String, Value>>,
    signer: &dyn Signer,
    rng: &dyn Rng,
) -> Result<String, Error> {
    let exp = input.now + template.validity_seconds;
    let status = input
        .status
        .as_ref()
        .map(|(idx, uri)| json!({"status_list": {"idx": idx, "uri": uri}}));
    match &template.format {
        CredentialFormat::SdJwtVc { vct } => {
            // Paths as tokens, not RFC 6901 text: a claim name holding `/` or `~` stays one
            // name. Chosen among the subject's claims, before the issuer's own are added.
            let paths: Vec<ClaimPath> = template
                .claims
                .iter()
                .filter(|c| {
                    template
                        .selectively_disclosable
                        .iter()
                        .any(|n| c.is_named(n))
                        && has_path(&claims, &c.path)
                })
                .map(|c| ClaimPath::from_tokens(c.path.iter().cloned()))
                .collect();
            let mut claims = claims.into_owned();
            claims.insert("iss".into(), json!(input.issuer));
            claims.insert("iat".into(), json!(input.now));
            claims.insert("exp".into(), json!(exp));
            claims.insert("vct".into(), json!(vct));
            if let Some(s) = status {
                claims.insert("status".into(), s);
            }
            let mut issuance = Issuance::new(claims).disclose_paths(paths);
            if let Some(k) = input.holder_key {
                issuance = issuance.holder_key(k.clone());
            }
            let mut r = PortRng::new(rng);
            let out = VcIssuer::new(IssuerConfig::default())
                .issue_with(&issuance, signer, &mut r)
                .await
                .map_err(|_| Error::ServerError("credential signing failed".into()));
            r.finish()?;
            out
        }
        CredentialFormat::JwtVcJson { types } => {
            let mut c = Map::new();
            c.insert("iss".into(), json!(input.issuer));
            c.insert("iat".into(), json!(input.now));
            c.insert("nbf".into(), json!(input.now));
            c.insert("exp".into(), json!(exp));
            if let Some(k) = input.holder_key {
                c.insert("cnf".into(), json!({"jwk": k.to_value()}));
            }
            if let Some(s) = status {
                c.insert("status".into(), s);
            }
            c.insert(
                "vc".into(),
                json!({
                    "@context": ["https://www.w3.org/2018/credentials/v1"],
                    "type": types,
                    "issuer": input.issuer,
                    "issuanceDate": rfc3339(input.now),
                    "expirationDate": rfc3339(exp),
                    "credentialSubject": &*claims,
                }),
            );
            jws::sign_compact_with(
                Header::new().with_typ("JWT"),
                Value::Object(c).to_string().as_bytes(),
                signer,
            )
            .await
            .map_err(|_| Error::ServerError("credential signing failed".into()))
        }
    }
}

fn has_path(claims: &Map<String, Value>, path: &[String]) -> bool {
    let mut v = claims.get(&path[0]);
    for seg in &path[1..] {
        v = v.and_then(|x| x.get(seg));
    }
    v.is_some()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a NumericDate (proleptic Gregorian, UTC).
pub(crate) fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::ClaimTemplate;

    /// Moving the claims out of the source's copy gives what selecting by reference gives,
    /// whatever the order of nested and top-level paths, for repeated claims, nulls and gaps.
    #[test]
    fn owned_claim_mapping_matches_borrowed() {
        let user: Map<String, Value> = serde_json::from_value(json!({
            "given_name": "Erika",
            "nickname": null,
            "address": {"locality": "Berlin", "postal_code": "10115"},
            "nationality": "DE",
            "flat": "not an object",
        }))
        .unwrap();
        let paths: [&[&str]; 8] = [
            &["address", "locality"],
            &["given_name"],
            &["address"],
            &["given_name"],
            &["nickname"],
            &["missing"],
            &["flat", "below"],
            &["flat"],
        ];
        for rotate in 0..paths.len() {
            let mut t = CredentialTemplate::new("t", CredentialFormat::JwtVcJson { types: vec![] });
            for p in paths.iter().cycle().skip(rotate).take(paths.len()) {
                t = t.with_claim(ClaimTemplate::new(p.iter().copied()));
            }
            assert_eq!(
                map_claims_owned(&t, user.clone()).unwrap(),
                map_claims(&t, &user).unwrap(),
                "rotation {rotate}"
            );
        }
        for mandatory in [&["nickname"][..], &["missing"], &["address", "country"]] {
            let t = CredentialTemplate::new("t", CredentialFormat::JwtVcJson { types: vec![] })
                .with_claim(ClaimTemplate::new(["given_name"]))
                .with_claim(ClaimTemplate::new(mandatory.iter().copied()).mandatory());
            assert!(map_claims(&t, &user).is_err());
            assert!(map_claims_owned(&t, user.clone()).is_err());
        }
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn jwt_vcs_verify_with_cnf_or_did_jwk() {
        use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeySpec, LocalSigner};
        let issuer = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        let signer = LocalSigner::new(issuer.clone(), JwsAlgorithm::ES256).unwrap();
        let holder = Key::generate(KeySpec::Ec(EcCurve::P256))
            .unwrap()
            .public_jwk()
            .unwrap();
        let t = CredentialTemplate::new(
            "d",
            CredentialFormat::JwtVcJson {
                types: vec!["VerifiableCredential".into()],
            },
        );
        let claims = Map::new();
        let rng = idforge_oauth_core::OsRng::new();
        let rt = |f| futures_lite(f);
        let jwt = rt(build_credential(
            &t,
            &CredentialInput::new("https://i.example", &claims, 1_800_000_000)
                .with_holder_key(&holder)
                .with_status(3, "https://i.example/status-lists/1"),
            &signer,
            &rng,
        ))
        .unwrap();
        let keys = issuer.to_public().unwrap();
        let clock = FixedClock::new(1_800_000_100);
        let v = verify_jwt_vc(
            &jwt,
            "https://i.example",
            &keys,
            &[JwsAlgorithm::ES256],
            &clock,
        )
        .unwrap();
        assert_eq!(v.holder_key.unwrap().thumbprint(), holder.thumbprint());
        assert_eq!(v.status.unwrap().status_list.unwrap().idx, 3);
        assert!(verify_jwt_vc(
            &jwt,
            "https://other.example",
            &keys,
            &[JwsAlgorithm::ES256],
            &clock
        )
        .is_err());
        // A did:jwk `sub` instead of `cnf`; and one naming another key than `cnf`.
        let did = format!(
            "did:jwk:{}",
            idforge_jose::b64::encode(holder.to_json().as_bytes())
        );
        let sign = |c: Value| {
            idforge_jose::jws::sign_compact(
                idforge_jose::Header::new().with_typ("JWT"),
                c.to_string().as_bytes(),
                &signer,
            )
            .unwrap()
        };
        let base = json!({"iss": "https://i.example", "iat": 1_800_000_000, "exp": 1_900_000_000,
                          "vc": {"type": ["VerifiableCredential"]}, "sub": did});
        let v = verify_jwt_vc(
            &sign(base.clone()),
            "https://i.example",
            &keys,
            &[JwsAlgorithm::ES256],
            &clock,
        )
        .unwrap();
        assert_eq!(v.holder_key.unwrap().thumbprint(), holder.thumbprint());
        let other = Key::generate(KeySpec::Ec(EcCurve::P256))
            .unwrap()
            .public_jwk()
            .unwrap();
        let mut both = base.clone();
        both["cnf"] = json!({"jwk": other.to_value()});
        assert!(verify_jwt_vc(
            &sign(both),
            "https://i.example",
            &keys,
            &[JwsAlgorithm::ES256],
            &clock
        )
        .is_err());
        let mut no_vc = base;
        no_vc["vc"] = json!({"type": ["Diploma"]});
        assert!(verify_jwt_vc(
            &sign(no_vc),
            "https://i.example",
            &keys,
            &[JwsAlgorithm::ES256],
            &clock
        )
        .is_err());
    }

    /// Polls a future that never pends (local signer, no I/O).
    fn futures_lite<F: std::future::Future>(f: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn claims_are_mapped_by_path() {
        let t = CredentialTemplate::new("t", CredentialFormat::SdJwtVc { vct: "v".into() })
            .with_claim(ClaimTemplate::new(["given_name"]).mandatory())
            .with_claim(ClaimTemplate::new(["address", "locality"]))
            .with_claim(ClaimTemplate::new(["nickname"]));
        let user = json!({"given_name": "Erika", "address": {"locality": "Köln", "street": "x"},
                          "email": "e@example.com"});
        let m = map_claims(&t, user.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"given_name": "Erika", "address": {"locality": "Köln"}})
        );
        let e = map_claims(&t, json!({"address": {}}).as_object().unwrap()).unwrap_err();
        assert_eq!(e.code(), "credential_request_denied");
    }
}

/// A `jwt_vc_json` credential whose signature and claims checked out.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifiedJwtVc {
    /// All claims of the JWT.
    pub claims: Map<String, Value>,
    /// `vc.type`.
    pub types: Vec<String>,
    /// The holder key: `cnf.jwk`, or the key of a `did:jwk` `sub`.
    pub holder_key: Option<Jwk>,
    /// The status list reference (`status.status_list`), if any.
    pub status: Option<idforge_sd_jwt::StatusReference>,
}

/// Verifies a `jwt_vc_json` credential (Appendix A.1): signature with `keys` under
/// `algorithms`, `iss` = `issuer`, `exp`/`nbf`/`iat` against `clock`, a `vc` object whose
/// `type` includes `VerifiableCredential`, and the holder binding: `cnf.jwk`, or a `sub` that
/// is a `did:jwk` DID (the key is decoded from it); both present must name the same key.
pub fn verify_jwt_vc(
    jwt: &str,
    issuer: &str,
    keys: &dyn idforge_jose::Verifier,
    algorithms: &[idforge_jose::JwsAlgorithm],
    clock: &dyn idforge_jose::Clock,
) -> Result<VerifiedJwtVc, idforge_jose::Error> {
    use idforge_jose::{claims::ClaimsValidation, ClaimsError, Error as JoseError};
    let bad = |m: &str| JoseError::Claims(ClaimsError::Invalid(m.to_owned()));
    let v = idforge_jose::verify_jwt(
        jwt,
        &idforge_jose::JwsPolicy::new(algorithms.iter().copied()),
        keys,
        &ClaimsValidation::default().issuer(issuer),
        clock,
    )?;
    let vc = v
        .claims
        .get("vc")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("`vc` is required"))?;
    let types: Vec<String> = vc
        .get("type")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !types.iter().any(|t| t == "VerifiableCredential") {
        return Err(bad("`vc.type` must include VerifiableCredential"));
    }
    let cnf = match v.claims.get("cnf").and_then(|c| c.get("jwk")) {
        Some(j) => Some(Jwk::from_value(j.clone())?),
        None => None,
    };
    let did = match v.claims.get("sub").and_then(Value::as_str) {
        Some(s) if s.starts_with("did:jwk:") => Some(did_jwk(s)?),
        _ => None,
    };
    let holder_key = match (cnf, did) {
        (Some(a), Some(b)) if a.thumbprint() != b.thumbprint() => {
            return Err(bad("`cnf.jwk` and the did:jwk `sub` differ"))
        }
        (Some(a), _) => Some(a),
        (None, b) => b,
    };
    if holder_key.as_ref().is_some_and(Jwk::is_private) {
        return Err(bad("the holder key must be public"));
    }
    let status = v
        .claims
        .get("status")
        .map(idforge_sd_jwt::StatusReference::from_value)
        .transpose()
        .map_err(|_| bad("malformed `status`"))?;
    Ok(VerifiedJwtVc {
        claims: v.claims,
        types,
        holder_key,
        status,
    })
}

/// The JWK of a `did:jwk` DID (`did:jwk:<base64url(JWK JSON)>`, optionally `#0`).
fn did_jwk(did: &str) -> Result<Jwk, idforge_jose::Error> {
    let encoded = did
        .strip_prefix("did:jwk:")
        .unwrap_or_default()
        .split('#')
        .next()
        .unwrap_or_default();
    let bytes = idforge_jose::b64::decode(encoded, "did:jwk")?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| idforge_jose::Error::InvalidKey("did:jwk is not UTF-8 JSON".into()))?;
    Jwk::from_json(text)
}
