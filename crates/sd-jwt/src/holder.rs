//! The holder (RFC 9901 §7.2): parse an issued SD-JWT, list what can be disclosed, select by
//! path, append a Key Binding JWT (§4.3).

use std::collections::BTreeSet;

use idforge_jose::claims::typ::KB_JWT;
use idforge_jose::{b64, Clock, Header, LocalSigner, Signer};
use serde_json::{Map, Value};

use crate::format::{Limits, SdJwt};
use crate::hash::SdAlg;
use crate::pointer::ClaimPath;
use crate::process::{process_owned, DisclosedClaim};
use crate::verifier::{IssuerKeyResolver, SdJwtVerifier};
use crate::{Error, Result};

/// An issued SD-JWT in the holder's hands.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    sd: SdJwt,
    header: Header,
    claims: Map<String, Value>,
    disclosable: Vec<DisclosedClaim>,
    sd_alg: SdAlg,
}

/// What the Key Binding JWT binds the presentation to (RFC 9901 §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBindingInput {
    /// `aud`: the verifier.
    pub audience: String,
    /// `nonce`: the verifier's challenge.
    pub nonce: String,
    /// `iat`; `None` takes the clock's time.
    pub issued_at: Option<i64>,
}

impl KeyBindingInput {
    /// `aud` and `nonce`, `iat` from the clock.
    pub fn new(audience: impl Into<String>, nonce: impl Into<String>) -> Self {
        KeyBindingInput {
            audience: audience.into(),
            nonce: nonce.into(),
            issued_at: None,
        }
    }
}

impl Credential {
    /// Parses an issued SD-JWT and checks its digest structure (RFC 9901 §7.2: every
    /// Disclosure must be referenced, no duplicates, ...) without checking the issuer's
    /// signature. Use [`Credential::verify`] to check that too (RFC 9901 §7.2 step 1).
    pub fn parse(text: &str, limits: &Limits) -> Result<Self> {
        let sd = SdJwt::parse(text, limits)?;
        let mut parts = sd.issuer_jwt().split('.');
        let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
            return Err(Error::Malformed(
                "Issuer-signed JWT is not a compact JWS".into(),
            ));
        };
        let header = Header::from_map(crate::json::parse_object(
            &b64::decode(h, "protected header")?,
            limits.max_depth,
            "protected header",
        )?);
        let payload =
            crate::json::parse_object(&b64::decode(p, "payload")?, limits.max_depth, "payload")?;
        let sd_alg = SdAlg::of_payload(&payload)?;
        let disclosures = sd.decode_disclosures(limits.max_depth)?;
        let processed = process_owned(payload, disclosures, sd_alg, limits.max_depth)?;
        Ok(Credential {
            header,
            sd,
            claims: processed.claims,
            disclosable: processed.disclosed,
            sd_alg,
        })
    }

    /// Verifies the issuer's signature and the digests with `verifier` (key binding settings
    /// are ignored: an issued SD-JWT has no KB-JWT), then parses.
    pub fn verify(
        text: &str,
        verifier: &SdJwtVerifier,
        keys: &dyn IssuerKeyResolver,
        clock: &dyn Clock,
    ) -> Result<Self> {
        let sd = SdJwt::parse(text, &verifier.config.limits)?;
        if sd.kb_jwt().is_some() {
            return Err(Error::Malformed(
                "an issued SD-JWT carries no KB-JWT".into(),
            ));
        }
        let checked = verifier.check_issuer_signed(sd, keys, clock)?;
        Ok(Credential {
            sd: checked.sd,
            header: checked.header,
            claims: checked.claims,
            disclosable: checked.disclosed,
            sd_alg: checked.sd_alg,
        })
    }

    /// The Issuer-signed JWT's header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// All claims with every Disclosure applied.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }
    /// The selectively disclosable claims with their paths (in the fully disclosed payload)
    /// and which Disclosure contains which (`parent`).
    pub fn disclosable(&self) -> &[DisclosedClaim] {
        &self.disclosable
    }
    /// The `_sd_alg` in effect.
    pub fn sd_alg(&self) -> SdAlg {
        self.sd_alg
    }
    /// The parsed SD-JWT.
    pub fn sd_jwt(&self) -> &SdJwt {
        &self.sd
    }

    /// The Disclosures needed to reveal `paths`: for each path, the Disclosures at or below it,
    /// plus those of every ancestor (a nested claim is unreadable without its parents'
    /// Disclosures). A path naming nothing in [`claims`](Credential::claims) is an error.
    /// The result keeps the issuance order.
    pub fn select(&self, paths: &[ClaimPath]) -> Result<Vec<String>> {
        let all = Value::Object(self.claims.clone());
        let mut chosen = BTreeSet::new();
        for path in paths {
            if path.resolve(&all).is_none() {
                return Err(Error::InvalidPath(path.to_string()));
            }
            for (i, d) in self.disclosable.iter().enumerate() {
                if path.contains(&d.path) || d.path.is_ancestor_of(path) {
                    chosen.insert(i);
                }
            }
        }
        // Close under `parent` (recursive disclosures).
        let mut stack: Vec<usize> = chosen.iter().copied().collect();
        while let Some(i) = stack.pop() {
            if let Some(p) = self.disclosable[i].parent {
                if chosen.insert(p) {
                    stack.push(p);
                }
            }
        }
        // Issuance order: the order of the Disclosures in the SD-JWT.
        let wanted: BTreeSet<&str> = chosen
            .iter()
            .map(|&i| self.disclosable[i].disclosure.as_str())
            .collect();
        Ok(self
            .sd
            .disclosures()
            .iter()
            .filter(|d| wanted.contains(d.as_str()))
            .cloned()
            .collect())
    }

    /// A presentation without key binding, in the issued serialization.
    pub fn present(&self, paths: &[ClaimPath]) -> Result<String> {
        Ok(self.sd.with(self.select(paths)?, None).serialize())
    }

    /// A presentation with a KB-JWT signed by a local key (RFC 9901 §4.3): `typ: kb+jwt`,
    /// `iat`, `aud`, `nonce`, and `sd_hash` over the presentation exactly as it is sent
    /// (§4.3.1).
    pub fn present_with_key_binding(
        &self,
        paths: &[ClaimPath],
        kb: &KeyBindingInput,
        signer: &LocalSigner,
        clock: &dyn Clock,
    ) -> Result<String> {
        let (unbound, input) = self.kb_input(paths, kb, signer.algorithm(), clock)?;
        let signature = signer.sign_sync(input.as_bytes())?;
        Ok(finish(unbound, input, &signature))
    }

    /// Like [`present_with_key_binding`](Credential::present_with_key_binding) with any
    /// [`Signer`] (a wallet's secure element, a KMS).
    pub async fn present_with_key_binding_with(
        &self,
        paths: &[ClaimPath],
        kb: &KeyBindingInput,
        signer: &dyn Signer,
        clock: &dyn Clock,
    ) -> Result<String> {
        let (unbound, input) = self.kb_input(paths, kb, signer.algorithm(), clock)?;
        let signature = signer.sign(input.as_bytes()).await?;
        Ok(finish(unbound, input, &signature))
    }

    fn kb_input(
        &self,
        paths: &[ClaimPath],
        kb: &KeyBindingInput,
        alg: idforge_jose::JwsAlgorithm,
        clock: &dyn Clock,
    ) -> Result<(SdJwt, String)> {
        let unbound = self.sd.with(self.select(paths)?, None);
        // RFC 9901 §4.3.1: the hash covers the Issuer-signed JWT and the selected Disclosures
        // exactly as they will be sent, each followed by `~`.
        let sd_hash = unbound.sd_hash(self.sd_alg);
        let mut header = Map::new();
        header.insert("alg".into(), alg.name().into());
        header.insert("typ".into(), KB_JWT.into());
        let mut claims = Map::new();
        claims.insert(
            "iat".into(),
            kb.issued_at.unwrap_or_else(|| clock.now()).into(),
        );
        claims.insert("aud".into(), kb.audience.clone().into());
        claims.insert("nonce".into(), kb.nonce.clone().into());
        claims.insert("sd_hash".into(), sd_hash.into());
        let header = serde_json::to_vec(&header).map_err(|e| Error::Malformed(e.to_string()))?;
        let claims = serde_json::to_vec(&claims).map_err(|e| Error::Malformed(e.to_string()))?;
        let mut input = b64::encode(header);
        input.push('.');
        b64::encode_into(claims, &mut input);
        Ok((unbound, input))
    }
}

fn finish(unbound: SdJwt, mut input: String, signature: &[u8]) -> String {
    input.push('.');
    b64::encode_into(signature, &mut input);
    let disclosures = unbound.disclosures().to_vec();
    unbound.with(disclosures, Some(input)).serialize()
}
