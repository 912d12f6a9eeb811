//! Credential templates (WSO2's name for OID4VCI credential configurations, §12.2.4): what a
//! credential of one kind looks like, which claims it carries and how it is bound and signed.
//!
//! A template that cannot be issued is refused by [`CredentialTemplate::validate`] when it is
//! saved ([`TemplateStore::put`](crate::ports::TemplateStore::put)), not when a wallet asks.

use idforge_jose::JwsAlgorithm;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::TemplateError;

/// Claim names a template may not define at the top level: they are set by the issuer
/// (SD-JWT VC draft §3.2.2: `iss`, `iat`, `nbf`, `exp`, `vct`, `cnf`, `status`; RFC 9901 §4.2:
/// `_sd`, `_sd_alg`, `...`; JWT VC: `vc`, `jti`, `sub`).
pub const RESERVED_CLAIMS: [&str; 14] = [
    "iss",
    "iat",
    "nbf",
    "exp",
    "vct",
    "vct#integrity",
    "cnf",
    "status",
    "_sd",
    "_sd_alg",
    "...",
    "vc",
    "jti",
    "sub",
];

/// Longest credential validity a template may ask for: ten years.
pub const MAX_VALIDITY_SECONDS: i64 = 10 * 366 * 24 * 3600;

/// The credential format of a template (§12.2.4 `format`, Appendix A).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format")]
#[non_exhaustive]
pub enum CredentialFormat {
    /// `dc+sd-jwt` (Appendix A.3): an SD-JWT VC of type `vct`.
    #[serde(rename = "dc+sd-jwt")]
    SdJwtVc {
        /// The verifiable credential type (SD-JWT VC draft §3.2.2.2).
        vct: String,
    },
    /// `jwt_vc_json` (Appendix A.1): a W3C VC Data Model 1.1 credential as a signed JWT.
    #[serde(rename = "jwt_vc_json")]
    JwtVcJson {
        /// `credential_definition.type` (Appendix A.1.2), including `VerifiableCredential`.
        types: Vec<String>,
    },
}

impl CredentialFormat {
    /// The format identifier (`dc+sd-jwt`, `jwt_vc_json`).
    pub fn name(&self) -> &'static str {
        match self {
            CredentialFormat::SdJwtVc { .. } => "dc+sd-jwt",
            CredentialFormat::JwtVcJson { .. } => "jwt_vc_json",
        }
    }
}

/// How a credential is bound to its holder (§12.2.4 `cryptographic_binding_methods_supported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BindingMethod {
    /// `jwk`: the proof's JWK goes into the credential's `cnf.jwk` (RFC 7800). Proofs carry
    /// the key in `jwk`, or in `x5c` when the issuer has trust anchors for proof certificates
    /// (Appendix F.1); the leaf key is bound the same way.
    #[serde(rename = "jwk")]
    Jwk,
    /// `did:jwk`: the proof's `kid` is a `did:jwk` DID URL (§12.2.4: a DID method is
    /// advertised as `did:` + method name; Appendix F.1 `kid`); the key it encodes is bound.
    #[serde(rename = "did:jwk")]
    DidJwk,
    /// `did:key`: the proof's `kid` is a `did:key` DID URL of a P-256 key (multicodec
    /// `p256-pub`); the key it encodes is bound.
    #[serde(rename = "did:key")]
    DidKey,
}

/// A display entry (§12.2.4 `display`, claim `display`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Display {
    /// The display name.
    pub name: String,
    /// BCP 47 language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

impl Display {
    /// A display entry named `name` without locale.
    pub fn new(name: impl Into<String>) -> Self {
        Display {
            name: name.into(),
            locale: None,
        }
    }

    /// With `locale`.
    pub fn with_locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }
}

/// A claim of the credential (§12.2.4 `credential_metadata.claims`, Appendix B.2 claims path).
///
/// `path` names the claim in the credential and, the same way, where its value is found in the
/// user's claims ([`ClaimsSource`](idforge_oauth_core::ClaimsSource)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClaimTemplate {
    /// Claims path pointer (object member names).
    pub path: Vec<String>,
    /// Whether the issuer always includes it (§12.2.4 `mandatory`); a user without it is
    /// refused with `credential_request_denied`.
    #[serde(default)]
    pub mandatory: bool,
    /// Display entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<Display>,
}

impl ClaimTemplate {
    /// An optional claim at `path`.
    pub fn new<S: Into<String>>(path: impl IntoIterator<Item = S>) -> Self {
        ClaimTemplate {
            path: path.into_iter().map(Into::into).collect(),
            mandatory: false,
            display: Vec::new(),
        }
    }

    /// Mandatory.
    pub fn mandatory(mut self) -> Self {
        self.mandatory = true;
        self
    }

    /// With a display name.
    pub fn with_display(mut self, display: Display) -> Self {
        self.display.push(display);
        self
    }

    /// The path joined with `.` (how [`CredentialTemplate::selectively_disclosable`] names it).
    pub fn name(&self) -> String {
        self.path.join(".")
    }

    /// Whether the dotted name `dotted` is this claim's [`name`](Self::name), without
    /// building the name.
    pub(crate) fn is_named(&self, dotted: &str) -> bool {
        match self.path.as_slice() {
            [one] => dotted == one,
            _ => dotted.split('.').eq(self.path.iter().map(String::as_str)),
        }
    }
}

/// A credential template: one entry of `credential_configurations_supported` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CredentialTemplate {
    /// The `credential_configuration_id`.
    pub id: String,
    /// Format and type.
    #[serde(flatten)]
    pub format: CredentialFormat,
    /// The OAuth scope that requests it (§12.2.4 `scope`, §5.1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Algorithms the issuer signs this credential with (the first is used).
    pub signing_algorithms: Vec<JwsAlgorithm>,
    /// Holder binding methods; empty for credentials without holder binding.
    #[serde(default)]
    pub binding_methods: Vec<BindingMethod>,
    /// `proof_types_supported.jwt.proof_signing_alg_values_supported` (Appendix F.1).
    #[serde(default)]
    pub proof_signing_algorithms: Vec<JwsAlgorithm>,
    /// The claims.
    #[serde(default)]
    pub claims: Vec<ClaimTemplate>,
    /// Which claims (by [`ClaimTemplate::name`]) are selectively disclosable (`dc+sd-jwt`).
    #[serde(default)]
    pub selectively_disclosable: Vec<String>,
    /// Display entries of the credential.
    #[serde(default)]
    pub display: Vec<Display>,
    /// How long an issued credential is valid, in seconds.
    pub validity_seconds: i64,
}

impl CredentialTemplate {
    /// A template `id` of `format`, signed with ES256, bound to a `jwk` proven with an ES256
    /// `jwt` proof, valid one year, with no claims yet.
    pub fn new(id: impl Into<String>, format: CredentialFormat) -> Self {
        CredentialTemplate {
            id: id.into(),
            format,
            scope: None,
            signing_algorithms: vec![JwsAlgorithm::ES256],
            binding_methods: vec![BindingMethod::Jwk],
            proof_signing_algorithms: vec![JwsAlgorithm::ES256],
            claims: Vec::new(),
            selectively_disclosable: Vec::new(),
            display: Vec::new(),
            validity_seconds: 365 * 24 * 3600,
        }
    }

    /// With the scope that requests it.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// With a claim.
    pub fn with_claim(mut self, claim: ClaimTemplate) -> Self {
        self.claims.push(claim);
        self
    }

    /// With these claim names selectively disclosable.
    pub fn with_selectively_disclosable<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.selectively_disclosable
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// With a display entry.
    pub fn with_display(mut self, display: Display) -> Self {
        self.display.push(display);
        self
    }

    /// With the validity in seconds.
    pub fn with_validity_seconds(mut self, seconds: i64) -> Self {
        self.validity_seconds = seconds;
        self
    }

    /// With the issuer's signing algorithms.
    pub fn with_signing_algorithms(mut self, algs: impl IntoIterator<Item = JwsAlgorithm>) -> Self {
        self.signing_algorithms = algs.into_iter().collect();
        self
    }

    /// With the accepted proof signing algorithms.
    pub fn with_proof_signing_algorithms(
        mut self,
        algs: impl IntoIterator<Item = JwsAlgorithm>,
    ) -> Self {
        self.proof_signing_algorithms = algs.into_iter().collect();
        self
    }

    /// With these holder binding methods (§12.2.4 `cryptographic_binding_methods_supported`),
    /// replacing the default `jwk`.
    pub fn with_binding_methods(
        mut self,
        methods: impl IntoIterator<Item = BindingMethod>,
    ) -> Self {
        self.binding_methods = methods.into_iter().collect();
        self
    }

    /// Without holder binding (no proofs are taken).
    pub fn without_binding(mut self) -> Self {
        self.binding_methods.clear();
        self.proof_signing_algorithms.clear();
        self
    }

    /// Whether the credential is bound to a holder key (then proofs are required, §8.2).
    pub fn requires_proof(&self) -> bool {
        !self.binding_methods.is_empty()
    }

    /// Checks that the template can be issued. The rules:
    /// - `id`: 1..=128 characters of `A-Za-z0-9._~-` (it appears in URLs and offers);
    /// - `dc+sd-jwt` has a non-empty `vct`; `jwt_vc_json` types include `VerifiableCredential`;
    /// - signing algorithms: at least one, asymmetric (RFC 8725 §3.1);
    /// - binding and proof algorithms go together, proof algorithms asymmetric (Appendix F.1);
    /// - claim paths: non-empty segments, no reserved top-level name ([`RESERVED_CLAIMS`]), no
    ///   duplicate, none a prefix of another (their values would collide);
    /// - `selectively_disclosable` names claims of the template, and only for `dc+sd-jwt`;
    /// - validity in `1..=`[`MAX_VALIDITY_SECONDS`]; display names non-empty.
    pub fn validate(&self) -> Result<(), TemplateError> {
        let bad = |m: String| Err(TemplateError::Invalid(m));
        if self.id.is_empty()
            || self.id.len() > 128
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
        {
            return bad(format!(
                "`id` {:?} must be 1..=128 of A-Za-z0-9._~-",
                self.id
            ));
        }
        match &self.format {
            CredentialFormat::SdJwtVc { vct } if vct.trim().is_empty() => {
                return bad("`vct` is required for dc+sd-jwt".into())
            }
            CredentialFormat::JwtVcJson { types }
                if !types.iter().any(|t| t == "VerifiableCredential") =>
            {
                return bad("jwt_vc_json `types` must include VerifiableCredential".into())
            }
            CredentialFormat::JwtVcJson { types } if types.iter().any(|t| t.is_empty()) => {
                return bad("empty credential type".into())
            }
            _ => {}
        }
        if self.signing_algorithms.is_empty() {
            return bad("at least one signing algorithm is required".into());
        }
        if let Some(a) = self
            .signing_algorithms
            .iter()
            .chain(&self.proof_signing_algorithms)
            .find(|a| a.is_symmetric())
        {
            return bad(format!("symmetric algorithm {a} is not allowed"));
        }
        if self.binding_methods.is_empty() != self.proof_signing_algorithms.is_empty() {
            return bad("binding methods and proof signing algorithms go together".into());
        }
        if let Some(s) = &self.scope {
            if s.is_empty() || s.contains(' ') {
                return bad("`scope` must be one scope value".into());
            }
        }
        let mut names = Vec::with_capacity(self.claims.len());
        for c in &self.claims {
            if c.path.is_empty() || c.path.iter().any(|s| s.is_empty() || s.contains('.')) {
                return bad(format!(
                    "claim path {:?} must be non-empty segments without `.`",
                    c.path
                ));
            }
            if RESERVED_CLAIMS.contains(&c.path[0].as_str()) {
                return bad(format!("claim `{}` is set by the issuer", c.path[0]));
            }
            if c.display.iter().any(|d| d.name.is_empty()) {
                return bad(format!("claim `{}` has an empty display name", c.name()));
            }
            names.push(c.name());
        }
        for (i, a) in self.claims.iter().enumerate() {
            for b in &self.claims[i + 1..] {
                let n = a.path.len().min(b.path.len());
                if a.path[..n] == b.path[..n] {
                    return bad(format!("claims `{}` and `{}` overlap", a.name(), b.name()));
                }
            }
        }
        if !self.selectively_disclosable.is_empty()
            && !matches!(self.format, CredentialFormat::SdJwtVc { .. })
        {
            return bad("only dc+sd-jwt claims can be selectively disclosable".into());
        }
        if let Some(n) = self
            .selectively_disclosable
            .iter()
            .find(|n| !names.contains(n))
        {
            return bad(format!("selectively disclosable `{n}` is not a claim"));
        }
        if !(1..=MAX_VALIDITY_SECONDS).contains(&self.validity_seconds) {
            return bad("validity must be between 1 second and 10 years".into());
        }
        if self.display.iter().any(|d| d.name.is_empty()) {
            return bad("empty display name".into());
        }
        Ok(())
    }

    /// The template as an entry of `credential_configurations_supported` (§12.2.4, Appendix
    /// A.1.2 and A.3.2).
    pub fn configuration_metadata(&self) -> Value {
        let mut m = Map::new();
        m.insert("format".into(), json!(self.format.name()));
        match &self.format {
            CredentialFormat::SdJwtVc { vct } => {
                m.insert("vct".into(), json!(vct));
            }
            CredentialFormat::JwtVcJson { types } => {
                m.insert("credential_definition".into(), json!({ "type": types }));
            }
        }
        if let Some(s) = &self.scope {
            m.insert("scope".into(), json!(s));
        }
        m.insert(
            "credential_signing_alg_values_supported".into(),
            json!(self.signing_algorithms),
        );
        if self.requires_proof() {
            m.insert(
                "cryptographic_binding_methods_supported".into(),
                json!(self.binding_methods),
            );
            m.insert(
                "proof_types_supported".into(),
                json!({"jwt": {"proof_signing_alg_values_supported": self.proof_signing_algorithms}}),
            );
        }
        let mut cm = Map::new();
        if !self.display.is_empty() {
            cm.insert("display".into(), json!(self.display));
        }
        if !self.claims.is_empty() {
            cm.insert("claims".into(), json!(self.claims));
        }
        if !cm.is_empty() {
            m.insert("credential_metadata".into(), Value::Object(cm));
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_names_match_their_dotted_form() {
        let one = ClaimTemplate::new(["given_name"]);
        assert!(one.is_named("given_name"));
        assert!(!one.is_named("given"));
        assert!(!one.is_named("given_name.x"));
        let two = ClaimTemplate::new(["address", "locality"]);
        assert!(two.is_named("address.locality"));
        assert!(!two.is_named("address"));
        assert!(!two.is_named("address.locality.x"));
        assert_eq!(two.name(), "address.locality");
    }

    fn pid() -> CredentialTemplate {
        CredentialTemplate::new(
            "pid",
            CredentialFormat::SdJwtVc {
                vct: "urn:eudi:pid:1".into(),
            },
        )
        .with_scope("pid")
        .with_claim(ClaimTemplate::new(["given_name"]).mandatory())
        .with_claim(ClaimTemplate::new(["address", "locality"]))
        .with_selectively_disclosable(["given_name", "address.locality"])
    }

    #[test]
    fn a_good_template_validates_and_describes_itself() {
        let t = pid();
        t.validate().unwrap();
        let m = t.configuration_metadata();
        assert_eq!(m["format"], "dc+sd-jwt");
        assert_eq!(m["vct"], "urn:eudi:pid:1");
        assert_eq!(m["cryptographic_binding_methods_supported"], json!(["jwk"]));
        assert_eq!(
            m["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"],
            json!(["ES256"])
        );
        assert_eq!(
            m["credential_metadata"]["claims"][1]["path"],
            json!(["address", "locality"])
        );
        assert_eq!(m["credential_metadata"]["claims"][0]["mandatory"], true);
        let back: CredentialTemplate =
            serde_json::from_value(serde_json::to_value(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn templates_that_cannot_be_issued_are_refused() {
        let mut cases: Vec<CredentialTemplate> = Vec::new();
        let mut t = pid();
        t.id = "has space".into();
        cases.push(t);
        cases.push(CredentialTemplate::new(
            "x",
            CredentialFormat::SdJwtVc { vct: " ".into() },
        ));
        cases.push(CredentialTemplate::new(
            "x",
            CredentialFormat::JwtVcJson {
                types: vec!["Diploma".into()],
            },
        ));
        cases.push(pid().with_signing_algorithms([]));
        cases.push(pid().with_signing_algorithms([JwsAlgorithm::HS256]));
        cases.push(pid().with_proof_signing_algorithms([JwsAlgorithm::HS256]));
        cases.push(pid().with_proof_signing_algorithms([]));
        cases.push(pid().with_claim(ClaimTemplate::new(["cnf"])));
        cases.push(pid().with_claim(ClaimTemplate::new(["status"])));
        cases.push(pid().with_claim(ClaimTemplate::new(["address"])));
        cases.push(pid().with_claim(ClaimTemplate::new(["given_name"])));
        cases.push(pid().with_claim(ClaimTemplate::new(Vec::<String>::new())));
        cases.push(pid().with_selectively_disclosable(["nope"]));
        cases.push(pid().with_validity_seconds(0));
        cases.push(pid().with_scope("a b"));
        cases.push(pid().with_display(Display::new("")));
        cases.push(
            CredentialTemplate::new(
                "vc",
                CredentialFormat::JwtVcJson {
                    types: vec!["VerifiableCredential".into()],
                },
            )
            .with_claim(ClaimTemplate::new(["name"]))
            .with_selectively_disclosable(["name"]),
        );
        for t in cases {
            assert!(t.validate().is_err(), "{t:?}");
        }
    }
}
