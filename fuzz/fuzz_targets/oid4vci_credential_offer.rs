//! OID4VCI credential offers (§4.1): JSON offers and offer URIs never panic; what parses
//! re-serializes to the same offer.
#![no_main]

use idforge_oid4vci::{CredentialOffer, OfferDelivery};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(o) = CredentialOffer::from_json(data) {
        let again =
            CredentialOffer::from_json(o.to_json().to_string().as_bytes()).expect("re-parse");
        assert_eq!(again, o);
        let uri = OfferDelivery::ByValue(o.clone()).to_uri();
        assert_eq!(
            OfferDelivery::parse_uri(&uri).expect("uri"),
            OfferDelivery::ByValue(o)
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = OfferDelivery::parse_uri(text);
    }
});
