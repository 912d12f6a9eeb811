//! The structured fuzz inputs render to the wire forms the parsers accept: over many random
//! instances, the token form parses with the grant type it was built with, the JWS header
//! peeks back, the SD-JWT splits into the Disclosures it was built from, and the SCIM filter
//! parses and round-trips. Every instance also goes through the matching entry points.

use arbitrary::{Arbitrary, Unstructured};
use idforge_oauth_core::{Limits, TokenRequest};
use idforge_testing::fuzzing::input::{
    AuthorizeQueryInput, JwtInput, ScimFilterInput, SdJwtInput, TokenRequestInput,
};
use idforge_testing::fuzzing::{self, header_and_body};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// `n` instances of `T` from seeded random bytes (reproducible).
fn instances<T: for<'a> Arbitrary<'a>>(n: usize, seed: u64) -> Vec<T> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    while out.len() < n {
        let mut bytes = vec![0u8; 256];
        rng.fill_bytes(&mut bytes);
        if let Ok(t) = T::arbitrary(&mut Unstructured::new(&bytes)) {
            out.push(t);
        }
    }
    out
}

#[test]
fn token_requests_parse_with_their_grant_type() {
    let mut parsed = 0;
    for input in instances::<TokenRequestInput>(300, 1) {
        let bytes = input.to_fuzz_input();
        let (auth, body) = header_and_body(&bytes);
        let (header, encoded) = input.encode();
        assert_eq!(auth, header);
        assert_eq!(body, encoded.as_bytes());
        let expected = url::form_urlencoded::parse(encoded.as_bytes())
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.into_owned());
        // RFC 6749 §3.1: a parameter without a value counts as omitted; a repeated one (with
        // values) is refused.
        let dup_names = {
            let mut names: Vec<_> = url::form_urlencoded::parse(encoded.as_bytes())
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, _)| k.into_owned())
                .collect();
            let n = names.len();
            names.sort();
            names.dedup();
            names.len() != n
        };
        match TokenRequest::from_form(body, auth, &Limits::default()) {
            Ok(req) => {
                parsed += 1;
                assert!(!dup_names, "a repeated parameter was accepted: {encoded}");
                let got = req.params.get("grant_type").map(str::to_owned);
                // An empty value counts as absent (RFC 6749 §3.1).
                assert_eq!(got, expected.filter(|g| !g.is_empty()), "{encoded}");
            }
            Err(e) => assert!(!e.code().is_empty()),
        }
        fuzzing::oauth_token_form(&bytes);
        fuzzing::oauth_token_exchange(&bytes);
    }
    assert!(parsed > 100, "only {parsed} of 300 parsed");
}

#[test]
fn authorize_queries_reach_the_authorization_endpoint() {
    for input in instances::<AuthorizeQueryInput>(200, 2) {
        let q = input.to_query();
        let client = url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "client_id")
            .map(|(_, v)| v.into_owned());
        assert_eq!(
            client.as_deref(),
            input.client_id.as_ref().map(|c| c.as_str())
        );
        fuzzing::oauth_authorize_query(q.as_bytes());
        fuzzing::oauth_par_form(q.as_bytes());
    }
}

#[test]
fn jwts_have_the_header_they_were_built_with() {
    for input in instances::<JwtInput>(200, 3) {
        let jws = input.to_compact();
        assert_eq!(jws.split('.').count(), 3);
        let header = idforge_jose::jws::peek_header(&jws).expect("header is a JSON object");
        assert_eq!(header.alg(), Some(input.alg.render().as_str()));
        for selector in [0, 1, 2, 3] {
            fuzzing::jws_compact(&input.to_fuzz_input(selector));
        }
        fuzzing::oid4vci_proof_jwt(jws.as_bytes());
    }
}

#[test]
fn sd_jwts_split_into_their_disclosures() {
    let limits = idforge_sd_jwt::Limits::default();
    let mut parsed = 0;
    for input in instances::<SdJwtInput>(200, 4) {
        let text = input.to_compact();
        if let Ok(sd) = idforge_sd_jwt::SdJwt::parse(&text, &limits) {
            parsed += 1;
            assert_eq!(sd.disclosures().len(), input.disclosures.len());
            assert_eq!(sd.kb_jwt().is_some(), input.kb_jwt.is_some());
        }
        fuzzing::sd_jwt_parse(text.as_bytes());
        fuzzing::sd_jwt_verify(text.as_bytes());
    }
    assert!(parsed > 100, "only {parsed} of 200 parsed");
}

#[test]
fn scim_filters_parse_and_round_trip() {
    for input in instances::<ScimFilterInput>(300, 5) {
        let text = input.to_string();
        let filter =
            idforge_scim_filter::parse_filter(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let again = idforge_scim_filter::parse_filter(&filter.to_string()).expect("canonical");
        assert_eq!(again, filter);
        fuzzing::scim_filter_parse(text.as_bytes());
    }
}

/// Generated Responses against saml-sp: an attack is always refused (or, for comment
/// injection, read whole); a solicited, signed Response is accepted with its NameID exactly.
#[test]
fn saml_responses_meet_saml_sp() {
    use idforge_saml_sp::response::{validate_response, RequestCheck, SpConfig};
    use idforge_testing::fuzzing::input::{xml_chars, SamlResponseInput};
    use idforge_testing::saml::{Expected, Signing, TestSamlIdp};
    let idp = TestSamlIdp::fixed("https://idp.example.org").expect("idp");
    let sp = SpConfig::new(
        "https://sp.example.com/metadata",
        "https://sp.example.com/acs",
    );
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
    let (mut accepted, mut refused) = (0, 0);
    for input in instances::<SamlResponseInput>(150, 6) {
        let Ok(xml) = input.to_xml(&idp, &sp, "_req1", now) else {
            // Only the bearer attack needs a solicited Response; nothing else may fail to build.
            assert!(!input.solicited, "{input:?}");
            continue;
        };
        let trusted = idp.trusted().expect("trusted");
        let check = RequestCheck::Exact("_req1".into());
        let outcome = validate_response(xml.as_bytes(), &sp, &trusted, &check, now);
        match input.attack.map(|a| a.expected()) {
            Some(Expected::Rejected) => assert!(outcome.is_err(), "{input:?}"),
            Some(Expected::RejectedOrNameId(name)) => {
                if let Ok(v) = &outcome {
                    assert_eq!(
                        v.assertion.name_id.as_ref().map(|n| n.value.as_str()),
                        Some(name)
                    );
                }
            }
            None if input.solicited && input.signing != Signing::Unsigned => {
                let v = outcome.unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
                assert_eq!(
                    v.assertion.name_id.map(|n| n.value),
                    Some(xml_chars(&input.name_id))
                );
                accepted += 1;
            }
            None => assert!(outcome.is_err(), "{input:?}"),
        }
        if input.attack.is_some() {
            refused += 1;
        }
    }
    assert!(
        accepted > 10 && refused > 10,
        "{accepted} accepted, {refused} attacks"
    );
}
