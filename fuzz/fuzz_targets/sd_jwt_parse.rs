//! SD-JWT parsing (RFC 9901 §4 compact, §8 JSON) and the holder's digest processing.
#![no_main]

use idforge_sd_jwt::{Credential, Limits, SdJwt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    if let Ok(sd) = SdJwt::parse(text, &limits) {
        // What parsed re-serializes to something that parses to the same parts.
        let again = SdJwt::parse(&sd.serialize(), &limits).expect("re-parse");
        assert_eq!(again.disclosures(), sd.disclosures());
        assert_eq!(again.kb_jwt(), sd.kb_jwt());
        assert_eq!(again.issuer_jwt(), sd.issuer_jwt());
    }
    if let Ok(cred) = Credential::parse(text, &limits) {
        // Every Disclosure was referenced exactly once (RFC 9901 §7.1 step 3).
        assert_eq!(cred.disclosable().len(), cred.sd_jwt().disclosures().len());
        assert!(!cred.claims().contains_key("_sd") && !cred.claims().contains_key("_sd_alg"));
        let all: Vec<_> = cred.disclosable().iter().map(|d| d.path.clone()).collect();
        let _ = cred.present(&all);
    }
});
