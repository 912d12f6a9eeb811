//! XML-DSig interop signatures from the xmlsec test suite (`aleksey-xmldsig-01`,
//! `xmldsig11-interop-2012`, `merlin-exc-c14n-one`): every signature this crate supports
//! verifies; every other one is refused with `Unsupported` (or, for key types the crypto layer
//! does not take, `UntrustedKey`), and the reason is listed.
//!
//! These are generic XML-DSig documents, so the test uses the generic options (`Id` attributes,
//! several references, SHA-1 opted in, XPointer `id()`), and takes the key from `KeyInfo` or the
//! vector's `keys/` folder. The SAML layer never trusts `KeyInfo`.

mod common;

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use idforge_jose::crypto::{self, EcCurve, PublicKey};
use idforge_saml_sp::dsig::{Signature, VerifyOptions};
use idforge_saml_sp::xml::Node;
use idforge_saml_sp::xml::{parse, Limits, NS_DSIG, NS_DSIG11};
use idforge_saml_sp::Error;

fn opts() -> VerifyOptions {
    VerifyOptions {
        allow_sha1: true,
        id_attributes: vec!["Id".into(), "ID".into(), "id".into()],
        max_references: 16,
        allow_xpointer: true,
    }
}

fn b64(s: &str) -> Vec<u8> {
    let t: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(t).expect("base64")
}

fn text(n: Node<'_, '_>) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

fn find<'a, 'i>(n: Node<'a, 'i>, ns: &str, local: &str) -> Option<Node<'a, 'i>> {
    n.descendants().find(|d| {
        d.is_element() && d.tag_name().name() == local && d.tag_name().namespace() == Some(ns)
    })
}

/// Keys named or embedded in KeyInfo (test only: a relying party pins keys instead).
fn keys_for(file: &Path, sig: Node<'_, '_>, keys_dir: &Path) -> Vec<PublicKey> {
    let mut out = Vec::new();
    // KeyInfo, or (RetrievalMethod) key material elsewhere in the same document.
    if find(sig, NS_DSIG, "KeyInfo").is_none() {
        return out;
    }
    let ki = sig.document().root();
    for c in ki
        .descendants()
        .filter(|d| d.tag_name().name() == "X509Certificate")
    {
        let t: String = text(c)
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        if let Ok((k, _)) = STANDARD
            .decode(t)
            .map_err(|_| ())
            .and_then(|d| crypto::x509_public_key(&d).map_err(|_| ()))
        {
            out.push(k);
        }
    }
    if let Some(d) = find(ki, NS_DSIG11, "DEREncodedKeyValue") {
        if let Ok(k) = crypto::public_key_from_spki_der(&b64(&text(d))) {
            out.push(k);
        }
    }
    if let Some(r) = find(ki, NS_DSIG, "RSAKeyValue") {
        let m = find(r, NS_DSIG, "Modulus")
            .map(|n| b64(&text(n)))
            .unwrap_or_default();
        let e = find(r, NS_DSIG, "Exponent")
            .map(|n| b64(&text(n)))
            .unwrap_or_default();
        if let Ok(k) = crypto::rsa_public(&m, &e) {
            out.push(k);
        }
    }
    if let Some(ec) = find(ki, NS_DSIG11, "ECKeyValue") {
        let curve = find(ec, NS_DSIG11, "NamedCurve")
            .and_then(|c| c.attribute("URI"))
            .and_then(|u| match u {
                "urn:oid:1.2.840.10045.3.1.7" => Some(EcCurve::P256),
                "urn:oid:1.3.132.0.34" => Some(EcCurve::P384),
                "urn:oid:1.3.132.0.35" => Some(EcCurve::P521),
                _ => None,
            });
        let point = find(ec, NS_DSIG11, "PublicKey")
            .map(|n| b64(&text(n)))
            .unwrap_or_default();
        if let (Some(curve), Some((&4, xy))) = (curve, point.split_first()) {
            let (x, y) = xy.split_at(xy.len() / 2);
            if let Ok(k) = crypto::ec_public(curve, x, y) {
                out.push(k);
            }
        }
    }
    if out.is_empty() {
        // RFC 4050 KeyValue forms, X509Digest, KeyInfoReference and RetrievalMethod: the key is
        // the interop suite's own certificate for that key type.
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let crt = ["p256", "p384", "p521"]
            .into_iter()
            .find(|c| name.contains(&format!("-{c}_")))
            .map(|c| format!("{c}-key.crt"))
            .or_else(|| name.contains("-rsa").then(|| "rsa-key.crt".to_owned()));
        if let Some(crt) = crt {
            if let Ok(der) = std::fs::read(keys_dir.join(&crt)) {
                let der = crypto::x509_pem_to_der(&der)
                    .ok()
                    .and_then(|v| v.into_iter().next())
                    .unwrap_or(der);
                if let Ok((k, _)) = crypto::x509_public_key(&der) {
                    out.push(k);
                }
            }
        }
    }
    out
}

/// Why a vector is refused, as a substring of the error; `None`: it must verify.
fn expected_refusal(name: &str) -> Option<&'static str> {
    let rules: [(&str, &str); 12] = [
        // aleksey's enveloped vectors add an XPath transform (SAML Core §5.4.4 allows none).
        (
            "enveloped-",
            "transform http://www.w3.org/TR/1999/REC-xpath-19991116",
        ),
        (
            "-dsa",
            "signature method http://www.w3.org/2009/xmldsig11#dsa-sha256",
        ),
        ("ed448", "eddsa-ed448"),
        // HMACOutputLength truncation (CVE-2009-0217 class) and symmetric keys in general.
        ("hmac-sha256-64", "SignatureMethod parameters"),
        ("truncated", "SignatureMethod parameters"),
        ("hmac", "hmac-sha"),
        ("relationship", "RelationshipTransform"),
        (
            "sha224-rsa",
            "digest http://www.w3.org/2001/04/xmldsig-more#sha224",
        ),
        ("sha224", "sha224"),
        // XML-DSig 1.1 §6.4.3: r and s are exactly the order's length (32 bytes on P-256).
        ("_padded", "SignatureValue does not verify"),
        // The 2012 interop RSA key is 1024 bits.
        ("signature-enveloping-", "RSA keys shorter than 2048 bits"),
        ("x509digest", "RSA keys shorter than 2048 bits"),
    ];
    let ec_2012 = name.starts_with("signature-enveloping-p") || name.contains("derencoded-ec");
    rules
        .iter()
        .find(|(pat, _)| name.contains(pat) && (!ec_2012 || name.contains("sha224")))
        .map(|(_, why)| *why)
}

fn verify_file(path: &Path, keys_dir: &Path) -> Result<usize, Error> {
    let input = std::fs::read_to_string(path).expect("read");
    let doc = parse(&input, &Limits::default())?;
    let sig_node = doc
        .descendants()
        .find(|n| {
            n.is_element()
                && n.tag_name().name() == "Signature"
                && n.tag_name().namespace() == Some(NS_DSIG)
        })
        .expect("a Signature");
    let o = opts();
    let sig = Signature::parse(sig_node, &o)?;
    let refs = sig.verify_references(&doc, &o)?;
    let keys = keys_for(path, sig_node, keys_dir);
    sig.verify_signed_info(&keys)?;
    Ok(refs.len())
}

#[test]
fn xmldsig_interop_signatures() {
    let Some(dir) = common::xmldsig_vectors("xmldsig_interop_signatures") else {
        return;
    };
    let keys_dir = dir.join("xmldsig11-interop-2012/keys");
    let mut verified = Vec::new();
    let mut refused = Vec::new();
    let mut wrong = Vec::new();
    for sub in ["aleksey-xmldsig-01", "xmldsig11-interop-2012"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "xml"))
            .collect();
        files.sort();
        for f in files {
            let name = f
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned();
            let expected = expected_refusal(&name);
            match (verify_file(&f, &keys_dir), expected) {
                (Ok(_), None) => verified.push(name),
                (Err(e), Some(why)) if e.to_string().contains(why) => {
                    refused.push(format!("{name}: {e}"))
                }
                (got, want) => wrong.push(format!("{name}: got {got:?}, expected {want:?}")),
            }
        }
    }
    println!("verified {} signatures:", verified.len());
    for v in &verified {
        println!("  ok {v}");
    }
    println!(
        "refused {} (unsupported by design or no key):",
        refused.len()
    );
    for r in &refused {
        println!("  -- {r}");
    }
    assert!(wrong.is_empty(), "failed for another reason: {wrong:#?}");
    assert!(verified.len() >= 33, "too few verified: {}", verified.len());
}

/// merlin-exc-c14n-one is DSA-signed (not supported), but its four references exercise
/// Exclusive C14N with and without comments and with `PrefixList="bar #default"`: all digests
/// must match.
#[test]
fn merlin_exc_c14n_one_reference_digests() {
    let Some(dir) = common::xmldsig_vectors("merlin_exc_c14n_one") else {
        return;
    };
    let input =
        std::fs::read_to_string(dir.join("merlin-exc-c14n-one/exc-signature.xml")).expect("read");
    let doc = parse(&input, &Limits::default()).expect("parse");
    let sig_node = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "Signature")
        .expect("Signature");
    let o = opts();
    let err = Signature::parse(sig_node, &o).expect_err("DSA is refused");
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
    // Re-parse with the signature method swapped for a supported one: only the references are
    // checked here.
    let patched = input.replace(
        "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    );
    let doc = parse(&patched, &Limits::default()).expect("parse");
    let sig_node = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "Signature")
        .expect("Signature");
    let sig = Signature::parse(sig_node, &o).expect("parse signature");
    assert_eq!(sig.references.len(), 4);
    let targets = sig
        .verify_references(&doc, &o)
        .expect("all four digests match");
    assert_eq!(targets.len(), 4);
}
