//! Credential requests (§8.2) and `jwt` key proofs (§8.2.1.1, Appendix F.1): parsing and the
//! pure checks, with no store (the endpoint consumes the proofs' nonces afterwards).

use idforge_jose::{Jwk, JwsAlgorithm, JwsPolicy, Key};
use serde_json::{Map, Value};

use idforge_oauth_core::Error;

use crate::error::{invalid_proof, invalid_request, CredentialErrorCode};
use crate::template::BindingMethod;

/// The `typ` of a `jwt` key proof (Appendix F.1).
pub const PROOF_TYP: &str = idforge_jose::claims::typ::OPENID4VCI_PROOF;
/// Largest credential request body (bytes).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Largest single proof JWT (bytes).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// Most proofs parsed in one request, whatever the batch size.
pub const MAX_PROOFS: usize = 1000;

/// Which credential is asked for (§8.2: exactly one of the two).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialTarget {
    /// `credential_identifier`, from the token response's `authorization_details`.
    Identifier(String),
    /// `credential_configuration_id`, when the token came from a scope or an offer without
    /// `authorization_details`.
    Configuration(String),
}

/// A parsed credential request (§8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialRequest {
    /// What is asked for.
    pub target: CredentialTarget,
    /// `proofs.jwt`: one key proof per credential (§8.2, batch).
    pub proofs: Vec<String>,
    /// `credential_response_encryption`, when present (§8.2).
    pub response_encryption: Option<Value>,
}

impl CredentialRequest {
    /// Parses a JSON credential request. Rules (§8.2):
    /// - a JSON object of at most [`MAX_REQUEST_BYTES`];
    /// - exactly one of `credential_identifier` and `credential_configuration_id`, strings;
    /// - `proof` (singular, removed before 1.0) is refused;
    /// - `proofs` is an object with exactly one member, the proof type; `jwt` is a non-empty
    ///   array of strings (at most [`MAX_PROOFS`]); any other proof type is `invalid_proof`.
    ///
    /// All failures are `invalid_credential_request` unless said otherwise (§8.3.1.2).
    pub fn from_json(body: &[u8]) -> Result<Self, Error> {
        if body.len() > MAX_REQUEST_BYTES {
            return Err(invalid_request("request too large"));
        }
        let v: Value =
            serde_json::from_slice(body).map_err(|_| invalid_request("the body is not JSON"))?;
        let Value::Object(obj) = v else {
            return Err(invalid_request("the body is not a JSON object"));
        };
        Self::from_object(obj)
    }

    /// The members are moved out of `obj`, not copied (proofs are most of a request).
    fn from_object(mut obj: Map<String, Value>) -> Result<Self, Error> {
        let mut str_member = |name: &str| -> Result<Option<String>, Error> {
            match obj.remove(name) {
                None => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
                Some(_) => Err(invalid_request(format!(
                    "`{name}` must be a non-empty string"
                ))),
            }
        };
        let target = match (
            str_member("credential_identifier")?,
            str_member("credential_configuration_id")?,
        ) {
            (Some(i), None) => CredentialTarget::Identifier(i),
            (None, Some(c)) => CredentialTarget::Configuration(c),
            _ => {
                return Err(invalid_request(
                    "exactly one of `credential_identifier` and `credential_configuration_id` is required",
                ))
            }
        };
        if obj.contains_key("proof") {
            return Err(invalid_request("`proof` is not supported; send `proofs`"));
        }
        let proofs = match obj.remove("proofs") {
            None => Vec::new(),
            Some(Value::Object(mut p)) => {
                if p.len() != 1 {
                    return Err(invalid_request("`proofs` must have exactly one proof type"));
                }
                let Some(jwts) = p.remove("jwt") else {
                    return Err(invalid_proof("unsupported proof type"));
                };
                let Value::Array(items) = jwts else {
                    return Err(invalid_request("`proofs.jwt` must be an array"));
                };
                if items.is_empty() || items.len() > MAX_PROOFS {
                    return Err(invalid_request("`proofs.jwt` must have 1 to 1000 entries"));
                }
                items
                    .into_iter()
                    .map(|j| match j {
                        Value::String(s) => Ok(s),
                        _ => Err(invalid_request("`proofs.jwt` entries must be strings")),
                    })
                    .collect::<Result<_, _>>()?
            }
            Some(_) => return Err(invalid_request("`proofs` must be an object")),
        };
        let response_encryption = obj.remove("credential_response_encryption");
        Ok(CredentialRequest {
            target,
            proofs,
            response_encryption,
        })
    }
}

/// What a proof is checked against (Appendix F.1).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProofRules<'a> {
    /// The Credential Issuer Identifier: the only accepted `aud`.
    pub audience: &'a str,
    /// The client id the token was issued to; `None` for anonymous pre-authorized access,
    /// whose proofs must not carry `iss`.
    pub client_id: Option<&'a str>,
    /// The template's `proof_signing_alg_values_supported`.
    pub algorithms: &'a [JwsAlgorithm],
    /// Now (NumericDate).
    pub now: i64,
    /// Oldest accepted `iat` is `now - max_age`.
    pub max_age: i64,
    /// Newest accepted `iat` is `now + leeway`.
    pub leeway: i64,
    /// The template's binding methods (§12.2.4): which of `jwk`/`x5c` (method `jwk`) and
    /// DID URL `kid`s (`did:jwk`, `did:key`) a proof may use.
    pub binding_methods: &'a [BindingMethod],
    /// Trust anchors (DER certificates) for proofs with `x5c`; empty refuses `x5c`.
    pub trust_anchors: &'a [Vec<u8>],
}

impl<'a> ProofRules<'a> {
    /// Rules for `audience` and `client_id` (`None`: anonymous) with `algorithms`, at `now`,
    /// accepting `iat` from 300 seconds back to 60 seconds ahead.
    pub fn new(
        audience: &'a str,
        client_id: Option<&'a str>,
        algorithms: &'a [JwsAlgorithm],
        now: i64,
    ) -> Self {
        ProofRules {
            audience,
            client_id,
            algorithms,
            now,
            max_age: 300,
            leeway: 60,
            binding_methods: &[BindingMethod::Jwk],
            trust_anchors: &[],
        }
    }

    /// With the template's binding methods (default: `jwk` only).
    pub fn with_binding_methods(mut self, methods: &'a [BindingMethod]) -> Self {
        self.binding_methods = methods;
        self
    }

    /// With trust anchors (DER) for `x5c` proofs (default: none, `x5c` refused).
    pub fn with_trust_anchors(mut self, anchors: &'a [Vec<u8>]) -> Self {
        self.trust_anchors = anchors;
        self
    }

    /// With the accepted `iat` window: `max_age` seconds back, `leeway` ahead.
    pub fn with_window(mut self, max_age: i64, leeway: i64) -> Self {
        self.max_age = max_age;
        self.leeway = leeway;
        self
    }
}

/// A proof whose signature and claims checked out: the holder key and the `c_nonce` it carries
/// (still to be consumed by the caller, §7.2).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ValidProof {
    /// The public key the credential is bound to (`cnf.jwk`).
    pub jwk: Jwk,
    /// The `nonce` claim.
    pub nonce: String,
}

/// JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_JWK_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Checks one `jwt` proof (§8.2.1.1, Appendix F.1). Every failure is `invalid_proof`:
/// 1. at most [`MAX_PROOF_BYTES`], a compact JWS;
/// 2. header `typ` is `openid4vci-proof+jwt`;
/// 3. header `alg` is one of the template's proof algorithms (never `none` nor a MAC);
/// 4. exactly one of `kid`, `jwk`, `x5c` (and `trust_chain`, which is refused), resolved by
///    [`crate::proof_key`]: `jwk` and `x5c` need the template's `jwk` binding method, `x5c`
///    also trust anchors and a chain that validates to one at `now`; `kid` must be a DID URL
///    of a method the template lists (`did:jwk`, `did:key`);
/// 5. the key holds no private key material, and is a public EC, OKP or RSA key;
/// 6. the signature verifies with that key;
/// 7. `aud` is the Credential Issuer Identifier;
/// 8. `iat` is present, not older than `max_age`, not later than `now + leeway`; `exp`, if
///    present, has not passed;
/// 9. `iss`, when the client is identified, is absent or its `client_id`; absent under
///    anonymous access;
/// 10. `nonce` is present (the issuer has a Nonce Endpoint, §7) — whether it is live is the
///     caller's check (`invalid_nonce`).
pub fn check_jwt_proof(jwt: &str, rules: &ProofRules<'_>) -> Result<ValidProof, Error> {
    if jwt.len() > MAX_PROOF_BYTES {
        return Err(invalid_proof("proof too large"));
    }
    // The header is parsed once: the policy checks size, `alg` (the template's, never
    // symmetric), `crit` and `b64`, then `proof_key` sees the header and names the key.
    let policy = JwsPolicy::new(
        rules
            .algorithms
            .iter()
            .copied()
            .filter(|a| !a.is_symmetric()),
    );
    let mut refusal = None;
    let (verified, key) = policy
        .verify_compact_with_header_key(jwt, |header| {
            proof_key(header, rules).map_err(|e| {
                refusal = Some(e);
                idforge_jose::Error::InvalidKey(String::new())
            })
        })
        .map_err(|e| {
            refusal.take().unwrap_or_else(|| match e {
                idforge_jose::Error::InvalidSignature => {
                    invalid_proof("the proof signature does not verify")
                }
                _ => invalid_proof(
                    "malformed proof JWT, or its `alg` is not one of the proof algorithms",
                ),
            })
        })?;
    let claims: Map<String, Value> = serde_json::from_slice(&verified.payload)
        .map_err(|_| invalid_proof("the proof payload is not a JSON object"))?;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == rules.audience,
        Some(Value::Array(a)) => a.len() == 1 && a[0] == rules.audience,
        _ => false,
    };
    if !aud_ok {
        return Err(invalid_proof("proof `aud` must be the credential issuer"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid_proof("proof `iat` is required"))?;
    if iat < rules.now - rules.max_age || iat > rules.now + rules.leeway {
        return Err(invalid_proof("proof `iat` is outside the accepted window"));
    }
    if let Some(exp) = claims.get("exp") {
        match exp.as_i64() {
            Some(exp) if exp + rules.leeway > rules.now => {}
            _ => return Err(invalid_proof("the proof has expired")),
        }
    }
    match (claims.get("iss"), rules.client_id) {
        (None, _) => {}
        (Some(Value::String(iss)), Some(client)) if iss == client => {}
        (Some(_), Some(_)) => return Err(invalid_proof("proof `iss` must be the client id")),
        (Some(_), None) => {
            return Err(invalid_proof(
                "proof `iss` must be omitted under anonymous pre-authorized access",
            ))
        }
    }
    let nonce = match claims.get("nonce") {
        Some(Value::String(n)) if !n.is_empty() => n.clone(),
        Some(_) => return Err(CredentialErrorCode::InvalidNonce.error("malformed `nonce`")),
        None => return Err(invalid_proof("proof `nonce` is required")),
    };
    Ok(ValidProof {
        jwk: key.into_jwk(),
        nonce,
    })
}

/// Rules 2, 4 and 5 on the proof's header: `typ`, exactly one key member, the key it names
/// (public, usable).
fn proof_key(header: &idforge_jose::Header, rules: &ProofRules<'_>) -> Result<Key, Error> {
    if header.typ() != Some(PROOF_TYP) {
        return Err(invalid_proof("proof `typ` must be openid4vci-proof+jwt"));
    }
    let key_members = ["kid", "jwk", "x5c", "trust_chain"]
        .iter()
        .filter(|m| header.get(m).is_some())
        .count();
    if key_members != 1 {
        return Err(invalid_proof(
            "the proof header must have exactly one of `kid`, `jwk`, `x5c`",
        ));
    }
    let jwk_binding = rules.binding_methods.contains(&BindingMethod::Jwk);
    let jwk = match (header.get("kid"), header.get("jwk"), header.get("x5c")) {
        (_, Some(Value::Object(jwk_obj)), _) => {
            if !jwk_binding {
                return Err(invalid_proof("this credential is not bound to `jwk` keys"));
            }
            if PRIVATE_JWK_MEMBERS.iter().any(|m| jwk_obj.contains_key(*m)) {
                return Err(invalid_proof(
                    "the proof `jwk` contains private key material",
                ));
            }
            Jwk::from_value(Value::Object(jwk_obj.clone()))
                .map_err(|_| invalid_proof("malformed `jwk`"))?
        }
        (Some(Value::String(kid)), None, None) => {
            crate::proof_key::did_url_jwk(kid, rules.binding_methods)?
        }
        (None, None, Some(_)) => {
            if !jwk_binding {
                return Err(invalid_proof("this credential is not bound to `x5c` keys"));
            }
            crate::proof_key::x5c_jwk(header, rules.trust_anchors, rules.now)?
        }
        _ => return Err(invalid_proof("malformed proof key (`kid`, `jwk` or `x5c`)")),
    };
    if jwk.is_private() {
        return Err(invalid_proof("the proof `jwk` must be a public key"));
    }
    Key::from_jwk(jwk).map_err(|_| invalid_proof("unusable `jwk`"))
}
