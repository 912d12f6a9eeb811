//! SAML parsers (idforge-saml-sp): XML and C14N, Responses, metadata, HTTP-Redirect.

use idforge_saml_sp::binding::decode_redirect;
use idforge_saml_sp::c14n::{canonicalize_subtree, Method};
use idforge_saml_sp::metadata::{parse_idp_metadata, MetadataOptions};
use idforge_saml_sp::response::{decode_post_value, validate_response, RequestCheck};
use idforge_saml_sp::xml::{parse, Limits};

use super::fixtures::*;

/// XML parsing under limits plus every canonicalization method over the whole document and the
/// root element: never panics, and canonical output is itself well-formed XML.
pub fn saml_xml_parse(data: &[u8]) {
    let limits = Limits {
        max_bytes: 64 * 1024,
        ..Limits::default()
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = parse(text, &limits) else {
        return;
    };
    for method in Method::ALL {
        let prefixes = ["#default".to_owned(), "a".to_owned()];
        for apex in [doc.root(), doc.root_element()] {
            if let Ok(out) = canonicalize_subtree(apex, method, &prefixes, None) {
                let out = String::from_utf8(out).expect("canonical XML is UTF-8");
                let big = Limits {
                    max_bytes: usize::MAX,
                    max_nodes: u32::MAX,
                    ..limits
                };
                if apex == doc.root_element() && method.is_exclusive() {
                    // Exclusive C14N of an element is a standalone well-formed document.
                    assert!(
                        parse(&out, &big).is_ok(),
                        "exc-c14n output does not parse: {out}"
                    );
                }
            }
        }
    }
}

/// Response validation end to end (base64 form value or raw XML) against a fixed IdP key at a
/// fixed time: never panics; anything accepted carries a signed part and the expected issuer.
pub fn saml_response(data: &[u8]) {
    let sp = saml_sp();
    let Ok(xml) = decode_post_value(data, &sp.limits) else {
        return;
    };
    for check in [RequestCheck::Exact("_req1".into()), RequestCheck::Deferred] {
        if let Ok(v) = validate_response(&xml, &sp, saml_idp(), &check, saml_now()) {
            assert!(v.assertion.signed.response || v.assertion.signed.assertion);
            assert_eq!(v.assertion.issuer, saml_idp().entity_id);
        }
    }
}

/// IdP metadata parsing, unpinned and pinned to the fixed key: never panics; pinned success
/// implies a verified signature.
pub fn saml_metadata(data: &[u8]) {
    let _ = parse_idp_metadata(data, &MetadataOptions::default(), saml_now());
    let pinned = MetadataOptions {
        pinned_keys: saml_idp()
            .signing_keys
            .iter()
            .map(|k| k.key.clone())
            .collect(),
        ..MetadataOptions::default()
    };
    if let Ok(md) = parse_idp_metadata(data, &pinned, saml_now()) {
        assert!(md.signed);
    }
    let _ = idforge_saml_sp::metadata::parse_duration(&String::from_utf8_lossy(data));
}

/// HTTP-Redirect decoding (query parsing, percent-decoding, base64, bounded INFLATE, SigAlg)
/// and query-signature verification: never panics, never inflates past the limit.
pub fn saml_redirect_decode(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_bytes: 64 * 1024,
        ..Limits::default()
    };
    if let Ok(msg) = decode_redirect(query, &limits, false) {
        assert!(msg.xml.len() <= limits.max_bytes);
        let keys: Vec<_> = saml_idp()
            .signing_keys
            .iter()
            .map(|k| k.key.clone())
            .collect();
        let _ = msg.verify(&keys);
    }
}
