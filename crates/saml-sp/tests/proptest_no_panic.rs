//! Property tests: hostile inputs never panic the parser, canonicalizer, response validator,
//! metadata parser or Redirect decoder, and canonicalization is stable.

mod common;

use common::saml::*;
use idforge_saml_sp::binding::decode_redirect;
use idforge_saml_sp::c14n::{canonicalize_subtree, Method};
use idforge_saml_sp::metadata::{parse_idp_metadata, MetadataOptions};
use idforge_saml_sp::response::{decode_post_value, validate_response, RequestCheck};
use idforge_saml_sp::xml::{parse, Limits};
use proptest::prelude::*;

/// Small XML-ish documents built from a grammar, so most of them parse.
fn xmlish() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["a", "p:b", "q:c", "d"]);
    let text = prop::sample::select(vec![
        "",
        "x",
        "&amp;",
        "<!--c-->",
        "<![CDATA[<y>]]>",
        " \r\n\t",
        "&#x20;",
    ]);
    let attr = prop::sample::select(vec![
        "",
        " x=\"1\"",
        " p:y=\"&lt;\t\"",
        " xmlns=\"urn:d\"",
        " xmlns:p=\"urn:p\"",
        " xmlns:q=\"urn:q\"",
        " xmlns=\"\"",
        " xml:lang=\"en\"",
    ]);
    let leaf = (name.clone(), attr.clone(), text.clone())
        .prop_map(|(n, a, t)| format!("<{n}{a}>{t}</{n}>"));
    leaf.prop_recursive(4, 32, 4, move |inner| {
        (
            name.clone(),
            attr.clone(),
            prop::collection::vec(inner, 0..4),
            text.clone(),
        )
            .prop_map(|(n, a, kids, t)| {
                format!(
                    "<{n}{a} xmlns:p=\"urn:p\" xmlns:q=\"urn:q2\">{t}{}</{n}>",
                    kids.join("")
                )
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = std::str::from_utf8(&data).map(|t| parse(t, &Limits::default()));
        let _ = validate_response(&data, &sp(), &idp().trusted().expect("t"), &RequestCheck::Deferred, now());
        let _ = decode_post_value(&data, &Limits::default());
        let _ = parse_idp_metadata(&data, &MetadataOptions::default(), now());
        let _ = decode_redirect(&String::from_utf8_lossy(&data), &Limits::default(), false);
    }

    #[test]
    fn canonicalization_is_stable(doc in xmlish()) {
        let Ok(parsed) = parse(&doc, &Limits::default()) else { return Ok(()) };
        for method in [Method::ExcC14n, Method::ExcC14nWithComments] {
            let once = canonicalize_subtree(parsed.root(), method, &[], None).expect("c14n");
            let text = String::from_utf8(once.clone()).expect("utf8");
            let reparsed = parse(&text, &Limits::default()).expect("canonical form parses");
            let twice = canonicalize_subtree(reparsed.root(), method, &[], None).expect("c14n");
            prop_assert_eq!(once, twice, "not idempotent for {}", doc);
        }
    }

    #[test]
    fn mutated_signed_responses_never_panic(pos in 0usize..4000, byte in any::<u8>()) {
        let s = spec();
        let xml = idp().signed_response(&s, true, false).expect("sign");
        let mut bytes = xml.into_bytes();
        let at = pos % bytes.len().max(1);
        if let Some(b) = bytes.get_mut(at) {
            *b = byte;
        }
        if let Ok(v) = validate_response(&bytes, &sp(), &idp().trusted().expect("t"), &RequestCheck::Exact("_req1".into()), now()) {
            // A mutation that still validates cannot have changed what was signed.
            prop_assert_eq!(v.assertion.issuer.as_str(), IDP);
        }
    }
}
