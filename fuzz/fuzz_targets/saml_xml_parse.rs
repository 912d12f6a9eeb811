//! XML parsing under limits plus every canonicalization method over the whole document and the
//! root element: never panics, and canonical output is itself well-formed XML.
#![no_main]

use idforge_saml_sp::c14n::{canonicalize_subtree, Method};
use idforge_saml_sp::xml::{parse, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 64 * 1024, ..Limits::default() };
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = parse(text, &limits) else { return };
    for method in Method::ALL {
        let prefixes = ["#default".to_owned(), "a".to_owned()];
        for apex in [doc.root(), doc.root_element()] {
            if let Ok(out) = canonicalize_subtree(apex, method, &prefixes, None) {
                let out = String::from_utf8(out).expect("canonical XML is UTF-8");
                let big = Limits { max_bytes: usize::MAX, max_nodes: u32::MAX, ..limits };
                if apex == doc.root_element() && method.is_exclusive() {
                    // Exclusive C14N of an element is a standalone well-formed document.
                    assert!(parse(&out, &big).is_ok(), "exc-c14n output does not parse: {out}");
                }
            }
        }
    }
});
