//! XML Signature (XML-DSig 1.1, W3C REC xmldsig-core1) verification and enveloped signing,
//! restricted to what SAML needs (SAML Core §5.4): same-document references, the
//! enveloped-signature and canonicalization transforms, SHA-2 digests (SHA-1 only by opt-in),
//! RSA PKCS#1 v1.5, RSA-PSS (RFC 6931 §2.3.10), ECDSA (XML-DSig 1.1 §6.4.3, raw `r || s`) and
//! Ed25519 (RFC 9231 §2.3.13).
//!
//! Verification returns the [`NodeId`]s the verified references point at. Callers (the SAML
//! layer) must read data *only* from those nodes: that is the anti-wrapping design.

use crate::xml::{Document, Node, NodeId};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use idforge_jose::crypto::{self, HashAlg, PrivateKey, PublicKey, PublicKeyKind, SignatureScheme};

use crate::c14n::{canonicalize_subtree, Method};
use crate::error::{Error, Result};
use crate::xml::{self, child_elements, is, NS_DSIG};

const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const NS_EXC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// Digest algorithms (XML-DSig 1.1 §6.2, RFC 6931 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// SHA-1: only with [`VerifyOptions::allow_sha1`] (XML-DSig 1.1 §6.2.1 discourages it).
    Sha1,
    /// SHA-256 (XML-DSig 1.1 §6.2.2).
    Sha256,
    /// SHA-384 (XML-DSig 1.1 §6.2.3).
    Sha384,
    /// SHA-512 (XML-DSig 1.1 §6.2.4).
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm URI.
    pub fn uri(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
            DigestAlgorithm::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            DigestAlgorithm::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
            DigestAlgorithm::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
        }
    }

    /// The algorithm for a URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512]
            .into_iter()
            .find(|d| d.uri() == uri)
    }

    fn hash(self) -> HashAlg {
        match self {
            DigestAlgorithm::Sha1 => HashAlg::Sha1,
            DigestAlgorithm::Sha256 => HashAlg::Sha256,
            DigestAlgorithm::Sha384 => HashAlg::Sha384,
            DigestAlgorithm::Sha512 => HashAlg::Sha512,
        }
    }
}

/// Signature algorithms (XML-DSig 1.1 §6.4, RFC 6931 §2.3, RFC 9231 §2.3.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-1 (opt-in only).
    RsaSha1,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (XML-DSig 1.1 §6.4.2).
    RsaSha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaSha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaSha512,
    /// RSASSA-PSS, SHA-256 and MGF1-SHA-256, salt 32 (RFC 6931 §2.3.10).
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512.
    RsaPssSha512,
    /// ECDSA with SHA-1 (opt-in only).
    EcdsaSha1,
    /// ECDSA with SHA-256 (XML-DSig 1.1 §6.4.3).
    EcdsaSha256,
    /// ECDSA with SHA-384.
    EcdsaSha384,
    /// ECDSA with SHA-512.
    EcdsaSha512,
    /// Pure Ed25519 (RFC 9231 §2.3.13).
    Ed25519,
}

impl SignatureAlgorithm {
    const ALL: [SignatureAlgorithm; 12] = [
        Self::RsaSha1,
        Self::RsaSha256,
        Self::RsaSha384,
        Self::RsaSha512,
        Self::RsaPssSha256,
        Self::RsaPssSha384,
        Self::RsaPssSha512,
        Self::EcdsaSha1,
        Self::EcdsaSha256,
        Self::EcdsaSha384,
        Self::EcdsaSha512,
        Self::Ed25519,
    ];

    /// The algorithm URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            Self::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Self::RsaSha384 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
            Self::RsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
            Self::RsaPssSha256 => "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
            Self::RsaPssSha384 => "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
            Self::RsaPssSha512 => "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
            Self::EcdsaSha1 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
            Self::EcdsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            Self::EcdsaSha384 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
            Self::EcdsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
            Self::Ed25519 => "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519",
        }
    }

    /// The algorithm for a URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    /// The SAML HTTP-Redirect `SigAlg` value is the same URI (SAML Bindings §3.4.4.1).
    pub fn is_sha1(self) -> bool {
        matches!(self, Self::RsaSha1 | Self::EcdsaSha1)
    }

    /// The primitive scheme for a key of `kind`, or `None` when algorithm and key do not fit
    /// (algorithm-substitution defence: the key decides the family, the document cannot).
    pub fn scheme(self, kind: PublicKeyKind) -> Option<SignatureScheme> {
        use SignatureAlgorithm as A;
        let h = |a: A| match a {
            A::RsaSha1 | A::EcdsaSha1 => HashAlg::Sha1,
            A::RsaSha256 | A::RsaPssSha256 | A::EcdsaSha256 => HashAlg::Sha256,
            A::RsaSha384 | A::RsaPssSha384 | A::EcdsaSha384 => HashAlg::Sha384,
            A::RsaSha512 | A::RsaPssSha512 | A::EcdsaSha512 | A::Ed25519 => HashAlg::Sha512,
        };
        match (self, kind) {
            (A::RsaSha1 | A::RsaSha256 | A::RsaSha384 | A::RsaSha512, PublicKeyKind::Rsa(bits))
                if bits >= 2048 =>
            {
                Some(SignatureScheme::RsaPkcs1(h(self)))
            }
            (A::RsaPssSha256 | A::RsaPssSha384 | A::RsaPssSha512, PublicKeyKind::Rsa(bits))
                if bits >= 2048 =>
            {
                Some(SignatureScheme::RsaPss(h(self)))
            }
            (
                A::EcdsaSha1 | A::EcdsaSha256 | A::EcdsaSha384 | A::EcdsaSha512,
                PublicKeyKind::Ec(curve),
            ) => Some(SignatureScheme::Ecdsa(h(self), curve)),
            (A::Ed25519, PublicKeyKind::Ed25519) => Some(SignatureScheme::Ed25519),
            _ => None,
        }
    }
}

/// What the verifier accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Accept SHA-1 digests and SHA-1 signature methods. Default `false`.
    pub allow_sha1: bool,
    /// Unqualified attribute names that act as IDs for `#id` references. SAML: only `ID`
    /// (SAML Core §1.3.4 `xs:ID` attributes are all named `ID`). Default `["ID"]`.
    pub id_attributes: Vec<String>,
    /// Maximum number of `Reference`s in one `SignedInfo` (DoS bound). Default 4.
    pub max_references: usize,
    /// Accept `#xpointer(id('x'))` references (XML-DSig 1.1 §4.4.3.3). Default `false`.
    pub allow_xpointer: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            allow_sha1: false,
            id_attributes: vec!["ID".to_owned()],
            max_references: 4,
            allow_xpointer: false,
        }
    }
}

/// One transform of a reference (only these two kinds exist here, SAML Core §5.4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    /// `enveloped-signature` (XML-DSig 1.1 §6.6.4).
    Enveloped,
    /// A canonicalization with its Exc-C14N PrefixList.
    C14n(Method, Vec<String>),
}

/// A parsed `ds:Reference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The `URI` attribute (`""`, `#id` or `#xpointer(id('id'))`).
    pub uri: String,
    /// The transforms in order.
    pub transforms: Vec<Transform>,
    /// The digest method.
    pub digest: DigestAlgorithm,
    /// The decoded `DigestValue`.
    pub digest_value: Vec<u8>,
}

/// A parsed `ds:Signature` element.
#[derive(Debug, Clone)]
pub struct Signature<'a, 'i> {
    /// The `ds:Signature` element.
    pub node: Node<'a, 'i>,
    signed_info: Node<'a, 'i>,
    /// The `CanonicalizationMethod` of `SignedInfo`.
    pub c14n: Method,
    c14n_prefixes: Vec<String>,
    /// The `SignatureMethod`.
    pub algorithm: SignatureAlgorithm,
    /// The references.
    pub references: Vec<Reference>,
    value: Vec<u8>,
}

fn b64(text: &str) -> Result<Vec<u8>> {
    // Line breaks are allowed inside base64Binary; strip white space only when there is some.
    let decoded = if text.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        STANDARD.decode(compact)
    } else {
        STANDARD.decode(text)
    };
    decoded.map_err(|_| Error::SignatureInvalid("bad base64".into()))
}

fn exc_prefixes(method_el: Node<'_, '_>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for c in child_elements(method_el) {
        if is(c, NS_EXC, "InclusiveNamespaces") {
            if let Some(list) = c.attribute("PrefixList") {
                out.extend(list.split_ascii_whitespace().map(str::to_owned));
            }
        } else {
            return Err(Error::Unsupported(format!(
                "<{}> in a c14n method",
                c.tag_name().name()
            )));
        }
    }
    Ok(out)
}

impl<'a, 'i> Signature<'a, 'i> {
    /// Parses a `ds:Signature` element strictly (XML-DSig 1.1 §4.2 schema order; unknown
    /// algorithms and transforms are errors, not skipped).
    pub fn parse(node: Node<'a, 'i>, opts: &VerifyOptions) -> Result<Self> {
        if !is(node, NS_DSIG, "Signature") {
            return Err(Error::MalformedMessage("not a ds:Signature".into()));
        }
        let mut kids = child_elements(node);
        let signed_info = kids
            .next()
            .filter(|n| is(*n, NS_DSIG, "SignedInfo"))
            .ok_or_else(|| {
                Error::MalformedMessage("Signature must start with SignedInfo".into())
            })?;
        let value_el = kids
            .next()
            .filter(|n| is(*n, NS_DSIG, "SignatureValue"))
            .ok_or_else(|| {
                Error::MalformedMessage("SignatureValue must follow SignedInfo".into())
            })?;
        let value = b64(&xml::simple_text(value_el)?)?;

        let mut si = child_elements(signed_info);
        let cm = si
            .next()
            .filter(|n| is(*n, NS_DSIG, "CanonicalizationMethod"))
            .ok_or_else(|| Error::MalformedMessage("missing CanonicalizationMethod".into()))?;
        let c14n_uri = xml::required_attr(cm, "Algorithm")?;
        let c14n = Method::from_uri(c14n_uri)
            .ok_or_else(|| Error::Unsupported(format!("canonicalization {c14n_uri}")))?;
        let c14n_prefixes = exc_prefixes(cm)?;
        let sm = si
            .next()
            .filter(|n| is(*n, NS_DSIG, "SignatureMethod"))
            .ok_or_else(|| Error::MalformedMessage("missing SignatureMethod".into()))?;
        if child_elements(sm).next().is_some() {
            // HMACOutputLength and friends: truncation attacks (CVE-2009-0217).
            return Err(Error::Unsupported("SignatureMethod parameters".into()));
        }
        let alg_uri = xml::required_attr(sm, "Algorithm")?;
        let algorithm = SignatureAlgorithm::from_uri(alg_uri)
            .ok_or_else(|| Error::Unsupported(format!("signature method {alg_uri}")))?;
        if algorithm.is_sha1() && !opts.allow_sha1 {
            return Err(Error::Unsupported(format!(
                "signature method {alg_uri} (SHA-1)"
            )));
        }
        let mut references = Vec::new();
        for r in si {
            if !is(r, NS_DSIG, "Reference") {
                return Err(Error::MalformedMessage(format!(
                    "unexpected <{}> in SignedInfo",
                    r.tag_name().name()
                )));
            }
            if references.len() >= opts.max_references {
                return Err(Error::Unsupported("too many references".into()));
            }
            references.push(parse_reference(r, opts)?);
        }
        if references.is_empty() {
            return Err(Error::MalformedMessage(
                "SignedInfo without Reference".into(),
            ));
        }
        Ok(Signature {
            node,
            signed_info,
            c14n,
            c14n_prefixes,
            algorithm,
            references,
            value,
        })
    }

    /// The canonical `SignedInfo` octets (XML-DSig 1.1 §3.2.2 step 1).
    pub fn canonical_signed_info(&self) -> Result<Vec<u8>> {
        canonicalize_subtree(self.signed_info, self.c14n, &self.c14n_prefixes, None)
    }

    /// Verifies `SignatureValue` over the canonical `SignedInfo` with each key in turn
    /// (XML-DSig 1.1 §3.2.2); returns the index of the key that verified.
    pub fn verify_signed_info(&self, keys: &[PublicKey]) -> Result<usize> {
        let data = self.canonical_signed_info()?;
        let mut fitting = false;
        let mut short_rsa = false;
        for (i, key) in keys.iter().enumerate() {
            let kind = crypto::public_key_kind(key);
            short_rsa |= matches!(kind, PublicKeyKind::Rsa(bits) if bits < 2048);
            let Some(scheme) = self.algorithm.scheme(kind) else {
                continue;
            };
            fitting = true;
            if crypto::verify(key, scheme, &data, &self.value).unwrap_or(false) {
                return Ok(i);
            }
        }
        if fitting {
            Err(Error::SignatureInvalid(
                "SignatureValue does not verify".into(),
            ))
        } else if short_rsa {
            Err(Error::Unsupported("RSA keys shorter than 2048 bits".into()))
        } else {
            Err(Error::UntrustedKey)
        }
    }

    /// Dereferences and digests every reference (XML-DSig 1.1 §3.2.1); returns the node each
    /// one points at (an element, or the document root for `URI=""`).
    pub fn verify_references(
        &self,
        doc: &'a Document<'i>,
        opts: &VerifyOptions,
    ) -> Result<Vec<NodeId>> {
        let mut out = Vec::with_capacity(self.references.len());
        for r in &self.references {
            out.push(self.verify_reference(doc, r, opts)?);
        }
        Ok(out)
    }

    fn verify_reference(
        &self,
        doc: &'a Document<'i>,
        r: &Reference,
        opts: &VerifyOptions,
    ) -> Result<NodeId> {
        let (target, keep_comments) = dereference(doc, &r.uri, opts)?;
        let mut exclude = None;
        let mut method = Method::C14n10;
        let mut prefixes: &[String] = &[];
        for t in &r.transforms {
            match t {
                Transform::Enveloped => {
                    if !self.node.ancestors().any(|a| a.id() == target.id()) {
                        return Err(Error::ReferenceInvalid(
                            "enveloped-signature transform but the signature is outside the reference".into(),
                        ));
                    }
                    exclude = Some(self.node.id());
                }
                Transform::C14n(m, p) => {
                    method = *m;
                    prefixes = p;
                }
            }
        }
        // XML-DSig 1.1 §4.4.3.3: bare-name and "" references drop comments.
        if !keep_comments {
            method = match method {
                Method::C14n10WithComments => Method::C14n10,
                Method::C14n11WithComments => Method::C14n11,
                Method::ExcC14nWithComments => Method::ExcC14n,
                m => m,
            };
        }
        let octets = canonicalize_subtree(target, method, prefixes, exclude)?;
        let digest = r.digest.hash().digest(&octets);
        if !crypto::ct_eq(&digest, &r.digest_value) {
            return Err(Error::SignatureInvalid(format!(
                "digest mismatch for reference {:?}",
                r.uri
            )));
        }
        Ok(target.id())
    }
}

fn parse_reference(r: Node<'_, '_>, opts: &VerifyOptions) -> Result<Reference> {
    let uri = r
        .attribute("URI")
        .ok_or_else(|| Error::Unsupported("Reference without URI".into()))?
        .to_owned();
    let mut kids = child_elements(r).peekable();
    let mut transforms = Vec::new();
    if let Some(ts) = kids.next_if(|n| is(*n, NS_DSIG, "Transforms")) {
        for t in child_elements(ts) {
            if !is(t, NS_DSIG, "Transform") {
                return Err(Error::MalformedMessage(
                    "unexpected element in Transforms".into(),
                ));
            }
            let alg = xml::required_attr(t, "Algorithm")?;
            if alg == ENVELOPED {
                if child_elements(t).next().is_some() || transforms.contains(&Transform::Enveloped)
                {
                    return Err(Error::Unsupported(
                        "enveloped-signature transform form".into(),
                    ));
                }
                transforms.push(Transform::Enveloped);
            } else if let Some(m) = Method::from_uri(alg) {
                transforms.push(Transform::C14n(m, exc_prefixes(t)?));
            } else {
                // XPath, XSLT, base64, ... : SAML Core §5.4.4 allows none of them, and they are
                // the DoS and wrapping surface of CVE-2008-? class XSLT attacks.
                return Err(Error::Unsupported(format!("transform {alg}")));
            }
        }
        // Only enveloped then at most one c14n, in that order.
        let ok = matches!(
            transforms.as_slice(),
            [] | [Transform::Enveloped]
                | [Transform::C14n(..)]
                | [Transform::Enveloped, Transform::C14n(..)]
        );
        if !ok {
            return Err(Error::Unsupported("transform chain".into()));
        }
    }
    let dm = kids
        .next()
        .filter(|n| is(*n, NS_DSIG, "DigestMethod"))
        .ok_or_else(|| Error::MalformedMessage("missing DigestMethod".into()))?;
    let dm_uri = xml::required_attr(dm, "Algorithm")?;
    let digest = DigestAlgorithm::from_uri(dm_uri)
        .ok_or_else(|| Error::Unsupported(format!("digest {dm_uri}")))?;
    if digest == DigestAlgorithm::Sha1 && !opts.allow_sha1 {
        return Err(Error::Unsupported("SHA-1 digest".into()));
    }
    let dv = kids
        .next()
        .filter(|n| is(*n, NS_DSIG, "DigestValue"))
        .ok_or_else(|| Error::MalformedMessage("missing DigestValue".into()))?;
    let digest_value = b64(&xml::simple_text(dv)?)?;
    if kids.next().is_some() {
        return Err(Error::MalformedMessage(
            "unexpected element in Reference".into(),
        ));
    }
    Ok(Reference {
        uri,
        transforms,
        digest,
        digest_value,
    })
}

/// Resolves a same-document reference: `""` is the whole document, `#id` the unique element
/// whose ID attribute equals `id` (anything else, or a second element with that ID, is an
/// error: duplicate IDs are the precondition of signature wrapping).
pub fn dereference<'a, 'i>(
    doc: &'a Document<'i>,
    uri: &str,
    opts: &VerifyOptions,
) -> Result<(Node<'a, 'i>, bool)> {
    if uri.is_empty() {
        return Ok((doc.root(), false));
    }
    let (id, keep_comments) = if let Some(rest) = uri.strip_prefix("#xpointer(id(") {
        if !opts.allow_xpointer {
            return Err(Error::Unsupported(format!("reference {uri}")));
        }
        let inner = rest
            .strip_suffix("))")
            .and_then(|s| {
                s.strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| s.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            })
            .ok_or_else(|| Error::Unsupported(format!("reference {uri}")))?;
        (inner, true)
    } else if let Some(id) = uri.strip_prefix('#') {
        if id.starts_with("xpointer(") {
            return Err(Error::Unsupported(format!("reference {uri}")));
        }
        (id, false)
    } else {
        return Err(Error::Unsupported(format!("external reference {uri:?}")));
    };
    let node = find_unique_id(doc, id, &opts.id_attributes)?
        .ok_or_else(|| Error::ReferenceInvalid(format!("no element with ID {id:?}")))?;
    Ok((node, keep_comments))
}

/// The single element carrying `id` in one of `id_attributes`; `DuplicateId` if several do.
pub fn find_unique_id<'a, 'i>(
    doc: &'a Document<'i>,
    id: &str,
    id_attributes: &[String],
) -> Result<Option<Node<'a, 'i>>> {
    let mut found = None;
    for n in doc.descendants().filter(|n| n.is_element()) {
        for a in n.attributes() {
            // The value first: it almost never matches, and the length alone tells.
            if a.value() == id
                && a.namespace().is_none()
                && id_attributes.iter().any(|x| x == a.name())
            {
                if found.is_some() {
                    return Err(Error::DuplicateId(id.to_owned()));
                }
                found = Some(n);
            }
        }
    }
    Ok(found)
}

/// Verifies the enveloped signature that is a direct child of `element`, if any (SAML Core
/// §5.4.1-5.4.4: one Reference, `URI="#"` + the element's `ID`, enveloped-signature transform
/// first, then at most Exclusive C14N). Returns whether the element was signed.
pub fn verify_enveloped(
    doc: &Document<'_>,
    element: Node<'_, '_>,
    keys: &[PublicKey],
    opts: &VerifyOptions,
) -> Result<bool> {
    let mut sigs = child_elements(element).filter(|n| is(*n, NS_DSIG, "Signature"));
    let Some(sig_node) = sigs.next() else {
        return Ok(false);
    };
    if sigs.next().is_some() {
        return Err(Error::MalformedMessage(
            "two Signatures on one element".into(),
        ));
    }
    let id = xml::required_attr(element, "ID")?;
    let sig = Signature::parse(sig_node, opts)?;
    let [reference] = sig.references.as_slice() else {
        return Err(Error::ReferenceInvalid(
            "SAML signatures have exactly one Reference".into(),
        ));
    };
    if reference.uri.strip_prefix('#') != Some(id) {
        // Signature over a different element than the one it sits in (wrapping).
        return Err(Error::ReferenceInvalid(format!(
            "Reference {:?} does not point at its parent element {id:?}",
            reference.uri
        )));
    }
    if reference.transforms.first() != Some(&Transform::Enveloped) {
        return Err(Error::ReferenceInvalid(
            "enveloped-signature transform required".into(),
        ));
    }
    let targets = sig.verify_references(doc, opts)?;
    if targets.as_slice() != [element.id()] {
        return Err(Error::ReferenceInvalid(
            "reference resolved to another element".into(),
        ));
    }
    sig.verify_signed_info(keys)?;
    Ok(true)
}

/// How [`sign_enveloped`] signs.
#[derive(Debug, Clone)]
pub struct SigningOptions {
    /// Signature method. Default RSA-SHA256.
    pub algorithm: SignatureAlgorithm,
    /// Digest method. Default SHA-256.
    pub digest: DigestAlgorithm,
    /// The certificate (DER) to put in `KeyInfo/X509Data`, if any.
    pub certificate: Option<Vec<u8>>,
}

impl Default for SigningOptions {
    fn default() -> Self {
        SigningOptions {
            algorithm: SignatureAlgorithm::RsaSha256,
            digest: DigestAlgorithm::Sha256,
            certificate: None,
        }
    }
}

fn key_kind(key: &PrivateKey) -> Result<PublicKeyKind> {
    let public = key.public_key().map_err(|e| Error::Key(e.to_string()))?;
    Ok(crypto::public_key_kind(&public))
}

/// Signs the element whose `ID` is `id` inside `xml` with an enveloped signature placed right
/// after its `Issuer` child (or first, when it has none) (SAML Core §5.4.1-5.4.4 profile of XML-DSig: one Reference to
/// `#ID`, enveloped-signature + Exclusive C14N transforms, Exclusive C14N of `SignedInfo`).
/// Returns the new document text.
pub fn sign_enveloped(
    xml_text: &str,
    id: &str,
    key: &PrivateKey,
    opts: &SigningOptions,
) -> Result<String> {
    let limits = xml::Limits {
        max_bytes: usize::MAX,
        ..xml::Limits::default()
    };
    let doc = xml::parse(xml_text, &limits)?;
    let target = find_unique_id(&doc, id, &["ID".to_owned()])?
        .ok_or_else(|| Error::ReferenceInvalid(format!("no element with ID {id:?}")))?;
    // SAML elements put the signature right after Issuer (SAML Core §5.4.1 schemas); metadata
    // puts it first (SAML Metadata §2.3.1).
    let at = match child_elements(target).next() {
        Some(first) if first.tag_name().name() == "Issuer" => first.range().end,
        _ => target
            .first_child()
            .map(|c| c.range().start)
            .ok_or_else(|| Error::MalformedMessage("cannot sign an empty element".into()))?,
    };
    // Inserting a ds:Signature that declares its own namespace does not change the canonical
    // form of anything else, so the digest of the element now equals the digest after insertion
    // with the enveloped-signature transform applied.
    let octets = canonicalize_subtree(target, Method::ExcC14n, &[], None)?;
    let digest = STANDARD.encode(opts.digest.hash().digest(&octets));
    let signed_info = format!(
        concat!(
            "<ds:SignedInfo xmlns:ds=\"{ns}\">",
            "<ds:CanonicalizationMethod Algorithm=\"{exc}\"/>",
            "<ds:SignatureMethod Algorithm=\"{alg}\"/>",
            "<ds:Reference URI=\"#{id}\"><ds:Transforms>",
            "<ds:Transform Algorithm=\"{env}\"/><ds:Transform Algorithm=\"{exc}\"/>",
            "</ds:Transforms><ds:DigestMethod Algorithm=\"{dm}\"/>",
            "<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
        ),
        ns = NS_DSIG,
        exc = Method::ExcC14n.uri(),
        alg = opts.algorithm.uri(),
        id = xml::escape_attr(id),
        env = ENVELOPED,
        dm = opts.digest.uri(),
        digest = digest,
    );
    let si_doc = xml::parse(&signed_info, &limits)?;
    let si_octets = canonicalize_subtree(si_doc.root_element(), Method::ExcC14n, &[], None)?;
    let kind = key_kind(key)?;
    let scheme = opts
        .algorithm
        .scheme(kind)
        .ok_or_else(|| Error::Key("signature algorithm does not fit the key".into()))?;
    let sig =
        crypto::sign(key, scheme, &si_octets).map_err(|_| Error::Key("signing failed".into()))?;
    let key_info = opts.certificate.as_ref().map_or(String::new(), |c| {
        format!(
            "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>",
            STANDARD.encode(c)
        )
    });
    // Inside the final ds:Signature, SignedInfo inherits xmlns:ds instead of declaring it.
    let inner_si = signed_info.replacen(&format!(" xmlns:ds=\"{NS_DSIG}\""), "", 1);
    let signature = format!(
        "<ds:Signature xmlns:ds=\"{NS_DSIG}\">{inner_si}<ds:SignatureValue>{}</ds:SignatureValue>{key_info}</ds:Signature>",
        STANDARD.encode(sig)
    );
    let (head, tail) = (xml_text.get(..at), xml_text.get(at..));
    match (head, tail) {
        (Some(h), Some(t)) => Ok(format!("{h}{signature}{t}")),
        _ => Err(Error::MalformedXml("bad insertion point".into())),
    }
}
