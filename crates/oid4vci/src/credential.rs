//! Building credentials from a template and the user's claims: SD-JWT VC (`dc+sd-jwt`,
//! Appendix A.3) through the `sd-jwt` crate and W3C JWT VCs (`jwt_vc_json`, Appendix A.1).

use idforge_jose::{jws, Header, Jwk, Signer};
use idforge_oauth_core::secret::PortRng;
use idforge_oauth_core::{Error, Rng};
use idforge_sd_jwt::{Issuance, IssuerConfig, VcIssuer};
use serde_json::{json, Map, Value};

use crate::error::CredentialErrorCode;
use crate::template::{CredentialFormat, CredentialTemplate};

/// Selects the template's claims from the user's claims: each claim's `path` is looked up in
/// `user` and set at the same path. A missing mandatory claim refuses issuance
/// (`credential_request_denied`, §8.3.1.2); a missing optional one is left out.
pub fn map_claims(
    template: &CredentialTemplate,
    user: &Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let mut out = Map::new();
    for c in &template.claims {
        let mut v = user.get(&c.path[0]);
        for seg in &c.path[1..] {
            v = v.and_then(|x| x.get(seg));
        }
        match v {
            Some(v) if !v.is_null() => {
                let mut slot = &mut out;
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
                slot.insert(c.path[c.path.len() - 1].clone(), v.clone());
            }
            _ if c.mandatory => {
                return Err(CredentialErrorCode::CredentialRequestDenied
                    .error(format!("the user has no `{}`", c.name())))
            }
            _ => {}
        }
    }
    Ok(out)
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
    let exp = input.now + template.validity_seconds;
    let status = input
        .status
        .as_ref()
        .map(|(idx, uri)| json!({"status_list": {"idx": idx, "uri": uri}}));
    match &template.format {
        CredentialFormat::SdJwtVc { vct } => {
            let mut claims = input.claims.clone();
            claims.insert("iss".into(), json!(input.issuer));
            claims.insert("iat".into(), json!(input.now));
            claims.insert("exp".into(), json!(exp));
            claims.insert("vct".into(), json!(vct));
            if let Some(s) = status {
                claims.insert("status".into(), s);
            }
            let paths: Vec<String> = template
                .claims
                .iter()
                .filter(|c| {
                    template.selectively_disclosable.contains(&c.name())
                        && has_path(input.claims, &c.path)
                })
                .map(|c| format!("/{}", c.path.join("/")))
                .collect();
            let mut issuance = Issuance::new(claims)
                .disclose(paths)
                .map_err(|_| Error::ServerError("disclosure policy".into()))?;
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
                    "credentialSubject": input.claims,
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

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
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
