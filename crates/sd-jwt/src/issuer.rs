//! Issuance (RFC 9901 §4.1, §4.2): a claims object plus a disclosure policy of JSON Pointers
//! becomes an Issuer-signed JWT and its Disclosures.

use std::collections::HashMap;

use idforge_jose::{b64, Header, Jwk, LocalSigner, Signer};
use rand::{CryptoRng, Rng, RngCore};
use serde_json::{Map, Value};

use crate::disclosure::{decoy_digest, Disclosure};
use crate::format::Serialization;
use crate::hash::SdAlg;
use crate::pointer::ClaimPath;
use crate::{Error, Result};

/// How the issuer builds SD-JWTs. Serde-(de)serializable so it can live in configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct IssuerConfig {
    /// `_sd_alg` (RFC 9901 §4.1.1); `sha-256` by default.
    pub sd_alg: SdAlg,
    /// Decoy digests added to every `_sd` array that holds at least one real digest (RFC 9901
    /// §4.2.5).
    pub decoys: usize,
    /// Decoy `{"...": digest}` elements inserted at random positions into every array that has
    /// at least one selectively disclosable element (RFC 9901 §4.2.5).
    pub array_decoys: usize,
    /// The `typ` header; `None` omits it. Explicit typing is recommended (RFC 9901 §9.11).
    pub typ: Option<String>,
    /// Output serialization (RFC 9901 §4 compact, §8 JSON).
    pub serialization: Serialization,
}

impl Default for IssuerConfig {
    fn default() -> Self {
        IssuerConfig {
            sd_alg: SdAlg::Sha256,
            decoys: 0,
            array_decoys: 0,
            typ: None,
            serialization: Serialization::Compact,
        }
    }
}

impl IssuerConfig {
    /// Sets `_sd_alg`.
    pub fn sd_alg(mut self, alg: SdAlg) -> Self {
        self.sd_alg = alg;
        self
    }
    /// Sets the number of decoy digests per `_sd` array.
    pub fn decoys(mut self, n: usize) -> Self {
        self.decoys = n;
        self
    }
    /// Sets the number of decoy elements per array with disclosable elements.
    pub fn array_decoys(mut self, n: usize) -> Self {
        self.array_decoys = n;
        self
    }
    /// Sets the `typ` header.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }
    /// Sets the serialization.
    pub fn serialization(mut self, s: Serialization) -> Self {
        self.serialization = s;
        self
    }
}

/// What to issue: the claims, which of them are selectively disclosable, the holder's key.
#[derive(Debug, Clone, Default)]
pub struct Issuance {
    /// The input claims (the "Unsecured Payload").
    pub claims: Map<String, Value>,
    /// JSON Pointers of the selectively disclosable claims: object properties at any depth,
    /// array elements (`/nationalities/1`), and both an object and members inside it for
    /// recursive disclosure (RFC 9901 §4.2.6).
    pub disclose: Vec<ClaimPath>,
    /// The holder's public key, put into `cnf.jwk` for key binding (RFC 7800 §3.2, RFC 9901
    /// §4.1.2). A private JWK is reduced to its public part.
    pub holder_key: Option<Jwk>,
    /// Extra JOSE header members (e.g. `kid`, `x5c`).
    pub header: Header,
}

impl Issuance {
    /// Claims with no selectively disclosable paths yet.
    pub fn new(claims: Map<String, Value>) -> Self {
        Issuance {
            claims,
            ..Issuance::default()
        }
    }
    /// Adds selectively disclosable paths (RFC 6901 text).
    pub fn disclose<I, S>(mut self, paths: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for p in paths {
            self.disclose.push(ClaimPath::parse(p.as_ref())?);
        }
        Ok(self)
    }
    /// Binds to the holder's key.
    pub fn holder_key(mut self, jwk: Jwk) -> Self {
        self.holder_key = Some(jwk);
        self
    }
    /// Adds a header member.
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.set(name, value);
        self
    }
}

/// The output of issuance before signing: used by both signing paths.
pub(crate) struct Prepared {
    pub(crate) header: Header,
    pub(crate) payload: Vec<u8>,
    pub(crate) disclosures: Vec<Disclosure>,
}

/// An SD-JWT issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Issuer {
    /// Configuration.
    pub config: IssuerConfig,
}

impl Issuer {
    /// An issuer with `config`.
    pub fn new(config: IssuerConfig) -> Self {
        Issuer { config }
    }

    /// Issues with a local key (synchronous fast path). Returns the serialized SD-JWT.
    pub fn issue<R: RngCore + CryptoRng + ?Sized>(
        &self,
        issuance: &Issuance,
        signer: &LocalSigner,
        rng: &mut R,
    ) -> Result<String> {
        let prepared = self.prepare(issuance, signer.algorithm(), signer.key_id(), rng)?;
        let (input, protected) = signing_input(&prepared)?;
        let signature = signer.sign_sync(input.as_bytes())?;
        Ok(self.assemble(input, protected, &signature, prepared.disclosures))
    }

    /// Issues through any [`Signer`] (KMS, HSM, local). The RNG is only used before the
    /// signature is requested.
    pub async fn issue_with<R: RngCore + CryptoRng + ?Sized>(
        &self,
        issuance: &Issuance,
        signer: &dyn Signer,
        rng: &mut R,
    ) -> Result<String> {
        let prepared = self.prepare(issuance, signer.algorithm(), signer.key_id(), rng)?;
        let (input, protected) = signing_input(&prepared)?;
        let signature = signer.sign(input.as_bytes()).await?;
        Ok(self.assemble(input, protected, &signature, prepared.disclosures))
    }

    fn assemble(
        &self,
        input: String,
        protected_len: usize,
        signature: &[u8],
        disclosures: Vec<Disclosure>,
    ) -> String {
        if self.config.serialization == Serialization::Compact {
            // RFC 9901 §4: `<Issuer-signed JWT>~<Disclosure 1>~...~<Disclosure n>~`.
            let extra: usize = disclosures.iter().map(|d| d.encoded().len() + 1).sum();
            let mut out = input;
            out.reserve(signature.len() * 4 / 3 + 2 + extra);
            out.push('.');
            b64::encode_into(signature, &mut out);
            out.push('~');
            for d in &disclosures {
                out.push_str(d.encoded());
                out.push('~');
            }
            return out;
        }
        // RFC 9901 §8.1: `disclosures` in the unprotected header of the (first) signature.
        let (protected, payload) = (&input[..protected_len], &input[protected_len + 1..]);
        let mut header = Map::new();
        header.insert(
            "disclosures".into(),
            Value::Array(
                disclosures
                    .into_iter()
                    .map(|d| Value::String(d.encoded().to_owned()))
                    .collect(),
            ),
        );
        let mut entry = Map::new();
        entry.insert("protected".into(), protected.into());
        entry.insert("header".into(), Value::Object(header));
        entry.insert("signature".into(), b64::encode(signature).into());
        let mut out = Map::new();
        out.insert("payload".into(), payload.into());
        if self.config.serialization == Serialization::GeneralJson {
            out.insert(
                "signatures".into(),
                Value::Array(vec![Value::Object(entry)]),
            );
        } else {
            out.extend(entry);
        }
        Value::Object(out).to_string()
    }

    /// Builds the header, payload and Disclosures.
    pub(crate) fn prepare<R: RngCore + CryptoRng + ?Sized>(
        &self,
        issuance: &Issuance,
        alg: idforge_jose::JwsAlgorithm,
        kid: Option<&str>,
        rng: &mut R,
    ) -> Result<Prepared> {
        let claims = &issuance.claims;
        check_reserved_members(claims, &ClaimPath::root())?;
        let root = Value::Object(claims.clone());
        let mut policy = PolicyNode::default();
        for p in &issuance.disclose {
            if p.is_root() {
                return Err(Error::InvalidPath(
                    "the root cannot be selectively disclosable".into(),
                ));
            }
            if p.resolve(&root).is_none() {
                return Err(Error::InvalidPath(p.to_string()));
            }
            policy.insert(p.tokens());
        }
        let mut b = Builder {
            alg: self.config.sd_alg,
            decoys: self.config.decoys,
            array_decoys: self.config.array_decoys,
            disclosures: Vec::with_capacity(issuance.disclose.len()),
            rng,
        };
        let Value::Object(mut payload) = b.build(root, &policy)? else {
            return Err(Error::Malformed("claims must be an object".into()));
        };
        let disclosures = b.disclosures;
        payload.insert("_sd_alg".into(), self.config.sd_alg.name().into());
        if let Some(jwk) = &issuance.holder_key {
            if claims.contains_key("cnf") {
                return Err(Error::ReservedClaimName(
                    "`cnf` is set from the holder key; remove it from the claims".into(),
                ));
            }
            let public = jwk.to_public().ok_or_else(|| {
                Error::MissingHolderKey("a symmetric key cannot be a holder key".into())
            })?;
            let mut cnf = Map::new();
            cnf.insert("jwk".into(), public.to_value());
            payload.insert("cnf".into(), Value::Object(cnf));
        }
        let mut header = issuance.header.clone();
        if let Some(typ) = &self.config.typ {
            header.set("typ", typ.as_str());
        }
        header.set("alg", alg.name());
        if let (None, Some(kid)) = (header.kid(), kid) {
            header.set("kid", kid);
        }
        let payload =
            serde_json::to_vec(&payload).map_err(|e| Error::Malformed(format!("payload: {e}")))?;
        Ok(Prepared {
            header,
            payload,
            disclosures,
        })
    }
}

/// `BASE64URL(header).BASE64URL(payload)` and the length of the header part.
pub(crate) fn signing_input(p: &Prepared) -> Result<(String, usize)> {
    let header = serde_json::to_vec(p.header.as_map())
        .map_err(|e| Error::Malformed(format!("header: {e}")))?;
    let mut input = b64::encode(header);
    let protected_len = input.len();
    input.push('.');
    b64::encode_into(&p.payload, &mut input);
    Ok((input, protected_len))
}

/// RFC 9901 §4.2.4: `_sd`, `_sd_alg` and `...` are reserved; input claims must not use them.
fn check_reserved_members(m: &Map<String, Value>, path: &ClaimPath) -> Result<()> {
    for (k, v) in m {
        if k == "_sd" || k == "..." || k == "_sd_alg" {
            return Err(Error::ReservedClaimName(path.child(k.clone()).to_string()));
        }
        if v.is_object() || v.is_array() {
            check_reserved(v, &path.child(k.clone()))?;
        }
    }
    Ok(())
}

fn check_reserved(v: &Value, path: &ClaimPath) -> Result<()> {
    match v {
        Value::Object(m) => check_reserved_members(m, path),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_reserved(v, &path.child(i.to_string()))),
        _ => Ok(()),
    }
}

/// The disclosure policy as a tree of reference tokens: a node is `disclose`d itself, and has
/// children where the policy reaches below it.
#[derive(Default)]
struct PolicyNode<'a> {
    disclose: bool,
    children: HashMap<&'a str, PolicyNode<'a>>,
}

impl<'a> PolicyNode<'a> {
    fn insert(&mut self, tokens: &'a [String]) {
        match tokens.split_first() {
            None => self.disclose = true,
            Some((first, rest)) => self
                .children
                .entry(first.as_str())
                .or_default()
                .insert(rest),
        }
    }
}

struct Builder<'a, R: ?Sized> {
    alg: SdAlg,
    decoys: usize,
    array_decoys: usize,
    disclosures: Vec<Disclosure>,
    rng: &'a mut R,
}

impl<R: RngCore + CryptoRng + ?Sized> Builder<'_, R> {
    /// Bottom-up: children first, so a disclosed object can itself carry `_sd` digests of its
    /// own disclosable members (recursive disclosure, RFC 9901 §4.2.6). Only the parts of the
    /// claims the policy reaches into are rebuilt.
    fn build(&mut self, v: Value, policy: &PolicyNode) -> Result<Value> {
        if policy.children.is_empty() {
            return Ok(v);
        }
        match v {
            Value::Object(m) => {
                let mut out = Map::new();
                let mut digests = Vec::new();
                for (k, child) in m {
                    let Some(node) = policy.children.get(k.as_str()) else {
                        out.insert(k, child);
                        continue;
                    };
                    let child = self.build(child, node)?;
                    if node.disclose {
                        let d = Disclosure::new(&mut *self.rng, Some(&k), child)?;
                        digests.push(d.digest(self.alg));
                        self.disclosures.push(d);
                    } else {
                        out.insert(k, child);
                    }
                }
                if !digests.is_empty() {
                    for _ in 0..self.decoys {
                        digests.push(decoy_digest(&mut *self.rng, self.alg));
                    }
                    // RFC 9901 §4.2.4.1: hide the original order (sorted here).
                    digests.sort_unstable();
                    out.insert(
                        "_sd".into(),
                        Value::Array(digests.into_iter().map(Value::String).collect()),
                    );
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len() + self.array_decoys);
                let mut any = false;
                for (i, child) in items.into_iter().enumerate() {
                    let Some(node) = policy.children.get(i.to_string().as_str()) else {
                        out.push(child);
                        continue;
                    };
                    let child = self.build(child, node)?;
                    if node.disclose {
                        let d = Disclosure::new(&mut *self.rng, None, child)?;
                        let mut m = Map::new();
                        m.insert("...".into(), d.digest(self.alg).into());
                        self.disclosures.push(d);
                        out.push(Value::Object(m));
                        any = true;
                    } else {
                        out.push(child);
                    }
                }
                if any {
                    for _ in 0..self.array_decoys {
                        let mut m = Map::new();
                        m.insert("...".into(), decoy_digest(&mut *self.rng, self.alg).into());
                        let at = self.rng.gen_range(0..=out.len());
                        out.insert(at, Value::Object(m));
                    }
                }
                Ok(Value::Array(out))
            }
            // The policy names a child of a scalar: `prepare` already refused that.
            _ => Err(Error::InvalidPath("a path goes below a scalar".into())),
        }
    }
}
