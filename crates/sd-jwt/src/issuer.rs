//! Issuance (RFC 9901 §4.1, §4.2): a claims object plus a disclosure policy of JSON Pointers
//! becomes an Issuer-signed JWT and its Disclosures.

use idforge_jose::{b64, Header, Jwk, LocalSigner, Signer};
use rand::{CryptoRng, Rng, RngCore};
use serde_json::{Map, Value};

use crate::disclosure::{decoy_digest_text, SALT_BYTES};
use crate::format::Serialization;
use crate::hash::{DigestText, SdAlg};
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
    /// Adds selectively disclosable paths given as [`ClaimPath`]s (no text to parse).
    pub fn disclose_paths(mut self, paths: impl IntoIterator<Item = ClaimPath>) -> Self {
        self.disclose.extend(paths);
        self
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
    /// The protected header's JSON text.
    pub(crate) header: Vec<u8>,
    pub(crate) payload: Vec<u8>,
    /// The encoded Disclosures, in issuance order.
    pub(crate) disclosures: Disclosures,
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
        disclosures: Disclosures,
    ) -> String {
        if self.config.serialization == Serialization::Compact {
            // RFC 9901 §4: `<Issuer-signed JWT>~<Disclosure 1>~...~<Disclosure n>~`.
            let mut out = input;
            out.reserve(signature.len() * 4 / 3 + 3 + disclosures.tail().len());
            out.push('.');
            b64::encode_into(signature, &mut out);
            out.push('~');
            out.push_str(disclosures.tail());
            return out;
        }
        // RFC 9901 §8.1: `disclosures` in the unprotected header of the (first) signature.
        let (protected, payload) = (&input[..protected_len], &input[protected_len + 1..]);
        let mut header = Map::new();
        header.insert(
            "disclosures".into(),
            Value::Array(
                disclosures
                    .iter()
                    .map(|d| Value::String(d.to_owned()))
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
    ///
    /// The payload is written as JSON straight from the input claims (no intermediate
    /// `Value` tree): only the members the policy reaches into are visited, everything else is
    /// serialized as it stands.
    pub(crate) fn prepare<R: RngCore + CryptoRng + ?Sized>(
        &self,
        issuance: &Issuance,
        alg: idforge_jose::JwsAlgorithm,
        kid: Option<&str>,
        rng: &mut R,
    ) -> Result<Prepared> {
        let claims = &issuance.claims;
        if let Some(path) = find_reserved_members(claims) {
            return Err(Error::ReservedClaimName(path.to_string()));
        }
        let mut policy = PolicyNode {
            disclose: false,
            children: Vec::with_capacity(issuance.disclose.len()),
        };
        for p in &issuance.disclose {
            if p.is_root() {
                return Err(Error::InvalidPath(
                    "the root cannot be selectively disclosable".into(),
                ));
            }
            policy.insert(p.tokens());
        }
        let holder = match &issuance.holder_key {
            Some(_) if claims.contains_key("cnf") => {
                return Err(Error::ReservedClaimName(
                    "`cnf` is set from the holder key; remove it from the claims".into(),
                ))
            }
            Some(jwk) => Some(jwk.to_public().ok_or_else(|| {
                Error::MissingHolderKey("a symmetric key cannot be a holder key".into())
            })?),
            None => None,
        };
        let mut b = Builder {
            alg: self.config.sd_alg,
            decoys: self.config.decoys,
            array_decoys: self.config.array_decoys,
            disclosures: Disclosures::with_capacity(issuance.disclose.len()),
            reached: 0,
            spare: Vec::new(),
            salts: vec![0u8; SALT_BYTES * policy.disclosed_count()],
            salts_used: 0,
            rng,
        };
        b.rng.fill_bytes(&mut b.salts);
        let mut payload = Vec::with_capacity(256 + 64 * issuance.disclose.len());
        b.write_object(claims, &policy, &mut payload)?;
        if b.reached != policy.disclosed_count() {
            // Some path names nothing in the claims: report the first one.
            let root = Value::Object(claims.clone());
            let missing = issuance
                .disclose
                .iter()
                .find(|p| p.resolve(&root).is_none())
                .map_or_else(String::new, ToString::to_string);
            return Err(Error::InvalidPath(missing));
        }
        // Close the top-level object with the members the issuer adds itself (§4.1.1, §4.1.2).
        payload.pop();
        if payload.len() > 1 {
            payload.push(b',');
        }
        payload.extend_from_slice(b"\"_sd_alg\":\"");
        payload.extend_from_slice(self.config.sd_alg.name().as_bytes());
        payload.push(b'"');
        if let Some(public) = holder {
            payload.extend_from_slice(b",\"cnf\":{\"jwk\":");
            serde_json::to_writer(&mut payload, &public)
                .map_err(|e| Error::Malformed(format!("holder key: {e}")))?;
            payload.push(b'}');
        }
        payload.push(b'}');
        Ok(Prepared {
            header: self.header_json(&issuance.header, alg, kid)?,
            payload,
            disclosures: b.disclosures,
        })
    }

    /// The protected header as JSON: the caller's members plus `alg` (always), `typ` (when
    /// configured) and `kid` (from the signer, unless the caller set one), which take
    /// precedence. Written directly in member-name order, as the caller's map iterates.
    fn header_json(
        &self,
        base: &Header,
        alg: idforge_jose::JwsAlgorithm,
        kid: Option<&str>,
    ) -> Result<Vec<u8>> {
        let mut own: Vec<(&str, &str)> = Vec::with_capacity(3);
        own.push(("alg", alg.name()));
        if let Some(typ) = &self.config.typ {
            own.push(("typ", typ));
        }
        if let (None, Some(kid)) = (base.kid(), kid) {
            own.push(("kid", kid));
        }
        own.sort_unstable_by_key(|(name, _)| *name);
        let mut out = Vec::with_capacity(64);
        out.push(b'{');
        let mut first = true;
        let mut pending = own.iter().peekable();
        for (name, value) in base.as_map() {
            if own.iter().any(|(n, _)| n == name) {
                continue;
            }
            while let Some((n, v)) = pending.next_if(|(n, _)| *n < name.as_str()) {
                member(n, &mut first, &mut out)?;
                write_str(v, &mut out)?;
            }
            member(name, &mut first, &mut out)?;
            write_json(value, &mut out)?;
        }
        for (n, v) in pending {
            member(n, &mut first, &mut out)?;
            write_str(v, &mut out)?;
        }
        out.push(b'}');
        Ok(out)
    }
}

/// `BASE64URL(header).BASE64URL(payload)` and the length of the header part.
pub(crate) fn signing_input(p: &Prepared) -> Result<(String, usize)> {
    let header = &p.header;
    // Sized once for the whole compact SD-JWT: signature and Disclosures are appended later.
    let mut input = Vec::with_capacity(
        (header.len() + p.payload.len()) * 4 / 3 + 100 + p.disclosures.tail.len(),
    );
    b64::encode_append(header, &mut input);
    let protected_len = input.len();
    input.push(b'.');
    b64::encode_append(&p.payload, &mut input);
    // base64url and `.` only.
    let input = String::from_utf8(input).map_err(|_| Error::Malformed("header".into()))?;
    Ok((input, protected_len))
}

/// RFC 9901 §4.2.4: `_sd`, `_sd_alg` and `...` are reserved; input claims must not use them.
/// Returns the path of the first offending member, allocating only when there is one.
fn find_reserved_members(m: &Map<String, Value>) -> Option<ClaimPath> {
    for (k, v) in m {
        if k == "_sd" || k == "..." || k == "_sd_alg" {
            return Some(ClaimPath::root().child(k.clone()));
        }
        if let Some(below) = find_reserved(v) {
            return Some(prefixed(k.clone(), below));
        }
    }
    None
}

fn find_reserved(v: &Value) -> Option<ClaimPath> {
    match v {
        Value::Object(m) => find_reserved_members(m),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_reserved(v).map(|below| prefixed(i.to_string(), below))),
        _ => None,
    }
}

fn prefixed(token: String, below: ClaimPath) -> ClaimPath {
    below
        .tokens()
        .iter()
        .fold(ClaimPath::root().child(token), |p, t| p.child(t.clone()))
}

/// Serializes any JSON value (compact form).
fn write_json(v: &Value, out: &mut Vec<u8>) -> Result<()> {
    match v {
        Value::String(s) => write_str(s, out),
        _ => serde_json::to_writer(out, v).map_err(|e| Error::Malformed(format!("claims: {e}"))),
    }
}

/// Writes a JSON string, byte-identical to `serde_json`'s output.
fn write_str(s: &str, out: &mut Vec<u8>) -> Result<()> {
    // RFC 8259 §7: only `"`, `\` and control characters must be escaped. Most claim names
    // and values have none, and copying them is much cheaper than escaping byte by byte.
    if !needs_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return Ok(());
    }
    serde_json::to_writer(out, s).map_err(|e| Error::Malformed(format!("claims: {e}")))
}

/// The disclosure policy as a tree of reference tokens: a node is `disclose`d itself, and has
/// children where the policy reaches below it.
#[derive(Default, Clone)]
struct PolicyNode<'a> {
    disclose: bool,
    /// Sorted by token, so lookups are a binary search (policies are small; no hashing).
    children: Vec<(&'a str, PolicyNode<'a>)>,
}

impl<'a> PolicyNode<'a> {
    fn insert(&mut self, tokens: &'a [String]) {
        let Some((first, rest)) = tokens.split_first() else {
            self.disclose = true;
            return;
        };
        let first = first.as_str();
        // Policies are usually written in order: appending needs one comparison.
        let i = match self.children.last() {
            Some((last, _)) if *last == first => self.children.len() - 1,
            Some((last, _)) if *last > first => self.position(first),
            _ => {
                self.children.push((first, PolicyNode::default()));
                self.children.len() - 1
            }
        };
        self.children[i].1.insert(rest);
    }

    /// Where `token` is, or is inserted, among the sorted children.
    fn position(&mut self, token: &'a str) -> usize {
        match self.children.binary_search_by(|(t, _)| (*t).cmp(token)) {
            Ok(i) => i,
            Err(i) => {
                self.children.insert(i, (token, PolicyNode::default()));
                i
            }
        }
    }

    /// The child reached by `token`, for tokens met in object-member order: `serde_json`'s
    /// map iterates in ascending key order, so a forward scan from `*from` (one comparison
    /// per member, a merge of two sorted lists) finds it; a token out of order (the
    /// `preserve_order` feature keeps insertion order) falls back to a binary search.
    fn find(&self, token: &str, from: &mut usize) -> Option<&PolicyNode<'a>> {
        let c = &self.children;
        if *from > 0 && c.get(*from - 1).is_some_and(|(t, _)| *t >= token) {
            return c
                .binary_search_by(|(t, _)| (*t).cmp(token))
                .ok()
                .map(|i| &c[i].1);
        }
        while c.get(*from).is_some_and(|(t, _)| *t < token) {
            *from += 1;
        }
        match c.get(*from) {
            Some((t, node)) if *t == token => {
                *from += 1;
                Some(node)
            }
            _ => None,
        }
    }

    /// How many nodes are selectively disclosable (duplicate paths count once).
    fn disclosed_count(&self) -> usize {
        usize::from(self.disclose)
            + self
                .children
                .iter()
                .map(|(_, c)| c.disclosed_count())
                .sum::<usize>()
    }
}

struct Builder<'a, R: ?Sized> {
    alg: SdAlg,
    decoys: usize,
    array_decoys: usize,
    /// The encoded Disclosures in the order they were made (innermost first).
    disclosures: Disclosures,
    /// Disclosable policy nodes found in the claims; fewer than the policy has means a path
    /// named nothing.
    reached: usize,
    /// Reused JSON buffers for Disclosures under construction (one per nesting level).
    spare: Vec<Vec<u8>>,
    /// The salts of the Disclosures the policy names, drawn from `rng` in one call (one
    /// call per salt costs more than the rest of a Disclosure when the RNG is a port with a
    /// lock, as oauth-core's is); taken in order, wiped once used.
    salts: Vec<u8>,
    /// How much of `salts` has been used.
    salts_used: usize,
    rng: &'a mut R,
}

impl<R: RngCore + ?Sized> Builder<'_, R> {
    /// The next 128-bit salt (RFC 9901 §4.2.1, §9.3): from the pool while it lasts, then
    /// drawn one by one.
    fn next_salt(&mut self) -> [u8; SALT_BYTES] {
        let mut salt = [0u8; SALT_BYTES];
        match self
            .salts
            .get_mut(self.salts_used..self.salts_used + SALT_BYTES)
        {
            Some(pooled) => {
                salt.copy_from_slice(pooled);
                pooled.fill(0);
                self.salts_used += SALT_BYTES;
            }
            None => self.rng.fill_bytes(&mut salt),
        }
        salt
    }
}

impl<R: RngCore + CryptoRng + ?Sized> Builder<'_, R> {
    /// Writes `v` as JSON with `policy` applied below it. Children are processed before their
    /// parent's Disclosure is made, so a disclosed object can itself carry `_sd` digests of
    /// its own disclosable members (recursive disclosure, RFC 9901 §4.2.6).
    fn write(&mut self, v: &Value, policy: &PolicyNode, out: &mut Vec<u8>) -> Result<()> {
        if policy.children.is_empty() {
            return write_json(v, out);
        }
        match v {
            Value::Object(m) => self.write_object(m, policy, out),
            Value::Array(items) => self.write_array(items, policy, out),
            // The policy names a child of a scalar.
            _ => Err(Error::InvalidPath("a path goes below a scalar".into())),
        }
    }

    /// RFC 9901 §4.2.4.1: disclosable members leave the object; their digests (and decoys,
    /// §4.2.5) go into `_sd`, sorted so the digests do not reveal the original order.
    fn write_object(
        &mut self,
        m: &Map<String, Value>,
        policy: &PolicyNode,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        out.push(b'{');
        let mut first = true;
        let mut digests = Vec::with_capacity(policy.children.len() + self.decoys);
        let mut cursor = 0;
        for (k, child) in m {
            let Some(node) = policy.find(k, &mut cursor) else {
                member(k, &mut first, out)?;
                write_json(child, out)?;
                continue;
            };
            if node.disclose {
                digests.push(self.disclosure(Some(k), child, node)?);
            } else {
                member(k, &mut first, out)?;
                self.write(child, node, out)?;
            }
        }
        if !digests.is_empty() {
            for _ in 0..self.decoys {
                digests.push(decoy_digest_text(&mut *self.rng, self.alg));
            }
            member("_sd", &mut first, out)?;
            out.push(b'[');
            for (i, d) in DigestText::sorted(&digests).iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // base64url digests never need JSON escaping.
                out.push(b'"');
                out.extend_from_slice(d.as_bytes());
                out.push(b'"');
            }
            out.push(b']');
        }
        out.push(b'}');
        Ok(())
    }

    /// RFC 9901 §4.2.4.2: a disclosable element is replaced by `{"...": "<digest>"}`; decoy
    /// elements (§4.2.5) go in at random positions.
    fn write_array(
        &mut self,
        items: &[Value],
        policy: &PolicyNode,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let mut at: Vec<Option<&PolicyNode>> = vec![None; items.len()];
        for (token, node) in &policy.children {
            let token: &str = token;
            // A token that is not an index of this array reaches nothing (reported by
            // `prepare` as an unknown path).
            if let Some(slot) = crate::pointer::array_index(token).and_then(|i| at.get_mut(i)) {
                *slot = Some(node);
            }
        }
        let mut elements: Vec<Vec<u8>> = Vec::with_capacity(items.len() + self.array_decoys);
        let mut any = false;
        for (child, node) in items.iter().zip(at) {
            let mut e = Vec::new();
            match node {
                None => write_json(child, &mut e)?,
                Some(node) if node.disclose => {
                    let digest = self.disclosure(None, child, node)?;
                    digest_element(&digest, &mut e);
                    any = true;
                }
                Some(node) => self.write(child, node, &mut e)?,
            }
            elements.push(e);
        }
        if any {
            for _ in 0..self.array_decoys {
                let mut e = Vec::new();
                digest_element(&decoy_digest_text(&mut *self.rng, self.alg), &mut e);
                let at = self.rng.gen_range(0..=elements.len());
                elements.insert(at, e);
            }
        }
        out.push(b'[');
        for (i, e) in elements.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(e);
        }
        out.push(b']');
        Ok(())
    }

    /// Makes one Disclosure (RFC 9901 §4.2.1, §4.2.2): `["<salt>","<name>",<value>]` or
    /// `["<salt>",<value>]`, base64url-encoded, with 128 fresh bits of salt (§9.3). Returns
    /// its digest (§4.2.3), computed over the encoded text exactly as it will be sent.
    fn disclosure(
        &mut self,
        name: Option<&str>,
        value: &Value,
        policy: &PolicyNode,
    ) -> Result<DigestText> {
        self.reached += 1;
        let mut json = self.spare.pop().unwrap_or_else(|| Vec::with_capacity(128));
        json.clear();
        let salt = self.next_salt();
        // 16 bytes encode to 22 characters; the base64url alphabet needs no JSON escaping.
        let mut salt_text = [0u8; 22];
        let n = b64::encode_to_slice(&salt, &mut salt_text).unwrap_or(0);
        json.extend_from_slice(b"[\"");
        json.extend_from_slice(&salt_text[..n]);
        json.extend_from_slice(b"\",");
        if let Some(n) = name {
            write_str(n, &mut json)?;
            json.push(b',');
        }
        self.write(value, policy, &mut json)?;
        json.push(b']');
        let digest = self.disclosures.push(&json, self.alg);
        self.spare.push(json);
        Ok(digest)
    }
}

/// Encoded Disclosures kept in one buffer, each followed by `~`: exactly the tail of the
/// compact serialization (RFC 9901 §4), built without one allocation per Disclosure.
pub(crate) struct Disclosures {
    /// Only base64url characters and `~`, so always valid UTF-8.
    tail: Vec<u8>,
    ends: Vec<usize>,
}

impl Disclosures {
    /// Room for `n` Disclosures of a typical size, so the buffer is not regrown while issuing.
    fn with_capacity(n: usize) -> Self {
        Disclosures {
            // A name, a short value and the salt encode to about 100 characters.
            tail: Vec::with_capacity(n * 128),
            ends: Vec::with_capacity(n),
        }
    }

    /// Encodes `json` as the next Disclosure and returns its digest.
    fn push(&mut self, json: &[u8], alg: SdAlg) -> DigestText {
        let start = self.tail.len();
        b64::encode_append(json, &mut self.tail);
        let digest = alg.digest_text(&self.tail[start..]);
        self.ends.push(self.tail.len());
        self.tail.push(b'~');
        digest
    }

    /// `<Disclosure 1>~...~<Disclosure n>~`.
    pub(crate) fn tail(&self) -> &str {
        std::str::from_utf8(&self.tail).unwrap_or_default()
    }

    /// Each encoded Disclosure.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        let tail = self.tail();
        let starts = std::iter::once(0).chain(self.ends.iter().map(|e| e + 1));
        starts.zip(&self.ends).map(move |(s, &e)| &tail[s..e])
    }
}

/// Writes `"name":`, preceded by a comma unless it is the first member.
fn member(name: &str, first: &mut bool, out: &mut Vec<u8>) -> Result<()> {
    if !std::mem::take(first) {
        out.push(b',');
    }
    write_str(name, out)?;
    out.push(b':');
    Ok(())
}

/// Whether any byte is `"`, `\` or a control character (below 0x20), checked eight bytes at a
/// time (SWAR: a byte is flagged when subtracting from it borrows past zero).
fn needs_escape(bytes: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI != 0;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = u64::from_le_bytes(w);
        // Bytes below 0x20: `v - 0x20` borrows. ASCII only (the high bit unset), so non-ASCII
        // UTF-8 bytes, which never need escaping, cannot trigger it.
        let control = v.wrapping_sub(LO * 0x20) & !v & HI != 0;
        if control || has_zero(v ^ (LO * u64::from(b'"'))) || has_zero(v ^ (LO * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// `{"...":"<digest>"}` (RFC 9901 §4.2.4.2).
fn digest_element(digest: &DigestText, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"...\":\"");
    out.extend_from_slice(digest.as_bytes());
    out.extend_from_slice(b"\"}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(tokens: &[&[String]]) -> PolicyNode<'static> {
        let mut p = PolicyNode::default();
        for t in tokens {
            // Leaked for the test's 'static borrow.
            p.insert(Box::leak(t.to_vec().into_boxed_slice()));
        }
        p
    }

    /// The directly written header equals "clone the caller's header, set `typ`, `alg` and
    /// a missing `kid`, serialize" for caller headers around and overlapping those names.
    #[test]
    fn header_json_matches_the_map_it_replaces() {
        use idforge_jose::JwsAlgorithm;
        let bases = [
            serde_json::json!({}),
            serde_json::json!({"kid": "caller", "x5c": ["MIIB"]}),
            serde_json::json!({"alg": "HS256", "typ": "JWT", "a": 1, "zz": {"q\"": null}}),
            serde_json::json!({"kid": 7, "b": "c", "kie": true}),
        ];
        for base in bases {
            let Value::Object(map) = base else {
                unreachable!()
            };
            let base = Header::from_map(map);
            for typ in [None, Some("dc+sd-jwt")] {
                for kid in [None, Some("signer")] {
                    let mut issuer = Issuer::default();
                    issuer.config.typ = typ.map(str::to_owned);
                    let direct = issuer.header_json(&base, JwsAlgorithm::ES256, kid).unwrap();
                    let mut reference = base.clone();
                    if let Some(typ) = typ {
                        reference.set("typ", typ);
                    }
                    reference.set("alg", "ES256");
                    if let (None, Some(kid)) = (reference.kid(), kid) {
                        reference.set("kid", kid);
                    }
                    let expected = serde_json::to_vec(reference.as_map()).unwrap();
                    assert_eq!(
                        String::from_utf8(direct).unwrap(),
                        String::from_utf8(expected).unwrap()
                    );
                }
            }
        }
    }

    /// The salts come from one draw of the RNG (the pool), are 128 bits each (RFC 9901
    /// §9.3) and all different; nested Disclosures get theirs from the same pool.
    #[test]
    fn salts_are_drawn_in_one_call_and_all_differ() {
        struct Counting(rand_chacha::ChaCha20Rng, usize);
        impl RngCore for Counting {
            fn next_u32(&mut self) -> u32 {
                self.1 += 1;
                self.0.next_u32()
            }
            fn next_u64(&mut self) -> u64 {
                self.1 += 1;
                self.0.next_u64()
            }
            fn fill_bytes(&mut self, dest: &mut [u8]) {
                self.1 += 1;
                self.0.fill_bytes(dest)
            }
            fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand::Error> {
                self.fill_bytes(dest);
                Ok(())
            }
        }
        impl CryptoRng for Counting {}
        use rand::SeedableRng;
        let mut claims = Map::new();
        for i in 0..12 {
            claims.insert(format!("c{i}"), Value::from(format!("v{i}")));
        }
        claims.insert(
            "address".into(),
            serde_json::json!({"street": "s", "city": "c"}),
        );
        let mut paths: Vec<String> = (0..12).map(|i| format!("/c{i}")).collect();
        paths.extend(["/address".into(), "/address/street".into()]);
        let issuance = Issuance::new(claims).disclose(&paths).unwrap();
        let mut issuer = Issuer::default();
        issuer.config.decoys = 0;
        let mut rng = Counting(rand_chacha::ChaCha20Rng::seed_from_u64(9), 0);
        let prepared = issuer
            .prepare(&issuance, idforge_jose::JwsAlgorithm::ES256, None, &mut rng)
            .unwrap();
        assert_eq!(rng.1, 1, "one draw for all salts");
        let salts: std::collections::HashSet<String> = prepared
            .disclosures
            .iter()
            .map(|d| {
                crate::disclosure::Disclosure::parse(d, 8)
                    .unwrap()
                    .salt()
                    .to_owned()
            })
            .collect();
        assert_eq!(salts.len(), 14);
        assert!(salts.iter().all(|s| s.len() == 22));
    }

    #[test]
    fn digests_sort_in_text_order_even_when_heads_tie() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let mut digests: Vec<DigestText> = (0..40)
            .map(|_| crate::disclosure::decoy_digest_text(&mut rng, SdAlg::Sha256))
            .collect();
        // Same first eight characters, different afterwards.
        let twin = SdAlg::Sha256.digest_text(b"twin");
        let mut other = twin;
        other.set_last(b'A');
        digests.extend([twin, other]);
        let sorted: Vec<&str> = DigestText::sorted(&digests)
            .iter()
            .map(|d| d.as_str())
            .collect();
        let mut expected: Vec<&str> = digests.iter().map(DigestText::as_str).collect();
        expected.sort_unstable();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn needs_escape_agrees_with_the_byte_rule() {
        let naive = |b: &[u8]| b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
        // Every byte value at every position of inputs up to 17 bytes (two words plus a tail),
        // over a background of plain and of non-ASCII bytes.
        for background in [b'a', 0xC3, 0x7F, 0x20, 0x21] {
            for len in 0..=17 {
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut input = vec![background; len];
                        input[at] = byte;
                        assert_eq!(needs_escape(&input), naive(&input), "{input:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn find_works_in_and_out_of_key_order() {
        let s = |v: &str| v.to_owned();
        let p = policy(&[&[s("b")], &[s("d")], &[s("a")]]);
        assert_eq!(p.disclosed_count(), 3);
        // Ascending order (serde_json's default BTreeMap iteration): one forward scan.
        let mut cursor = 0;
        let hits: Vec<bool> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|k| p.find(k, &mut cursor).is_some())
            .collect();
        assert_eq!(hits, [true, true, false, true, false]);
        // Insertion order (`preserve_order`): out-of-order tokens fall back to binary search.
        let mut cursor = 0;
        let hits: Vec<bool> = ["d", "x", "a", "c", "b"]
            .iter()
            .map(|k| p.find(k, &mut cursor).is_some())
            .collect();
        assert_eq!(hits, [true, false, true, false, true]);
    }
}
