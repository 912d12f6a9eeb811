//! Property tests of the parsers: arbitrary input never panics; what is built round-trips.
#![allow(clippy::unwrap_used)]

use idforge_jose::JwsAlgorithm;
use idforge_oid4vci::offer::{CredentialOffer, OfferDelivery, TxCode};
use idforge_oid4vci::request::{check_jwt_proof, CredentialRequest, ProofRules};
use idforge_oid4vci::status_list::{encode_lst, read_lst};
use proptest::prelude::*;

proptest! {
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = CredentialOffer::from_json(&bytes);
        let _ = CredentialRequest::from_json(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = OfferDelivery::parse_uri(text);
            let algs = [JwsAlgorithm::ES256];
            let _ = check_jwt_proof(text, &ProofRules::new("https://i.example", None, &algs, 0));
        }
    }

    #[test]
    fn json_shaped_requests_never_panic(
        id in "[a-z]{0,8}",
        proofs in proptest::collection::vec("[A-Za-z0-9._-]{0,40}", 0..4),
        which in 0u8..4,
    ) {
        let body = match which {
            0 => serde_json::json!({"credential_configuration_id": id, "proofs": {"jwt": proofs}}),
            1 => serde_json::json!({"credential_identifier": id, "proofs": {"jwt": proofs}}),
            2 => serde_json::json!({"credential_identifier": id, "credential_configuration_id": id}),
            _ => serde_json::json!({"credential_configuration_id": id, "proofs": {"x": proofs}}),
        };
        match CredentialRequest::from_json(body.to_string().as_bytes()) {
            Ok(r) => prop_assert!(which <= 1 && !id.is_empty() && r.proofs.len() == proofs.len()),
            Err(e) => prop_assert!(
                ["invalid_credential_request", "invalid_proof"].contains(&e.code())
            ),
        }
    }

    #[test]
    fn offers_round_trip(
        ids in proptest::collection::btree_set("[A-Za-z0-9_.-]{1,12}", 1..5),
        code in "[A-Za-z0-9_-]{1,43}",
        length in proptest::option::of(1u32..12),
    ) {
        let mut o = CredentialOffer::new("https://issuer.example", ids);
        let tx = length.map(TxCode::numeric);
        o.grants = serde_json::from_value(serde_json::json!({
            "urn:ietf:params:oauth:grant-type:pre-authorized_code":
                {"pre-authorized_code": code, "tx_code": tx}
        })).unwrap();
        let back = CredentialOffer::from_json(o.to_json().to_string().as_bytes()).unwrap();
        prop_assert_eq!(&back, &o);
        let uri = OfferDelivery::ByValue(o.clone()).to_uri();
        prop_assert_eq!(OfferDelivery::parse_uri(&uri).unwrap(), OfferDelivery::ByValue(o));
    }

    #[test]
    fn status_lists_round_trip(values in proptest::collection::vec(0u8..2, 1..300)) {
        let lst = encode_lst(&values).unwrap();
        for (i, v) in values.iter().enumerate() {
            prop_assert_eq!(read_lst(&lst, 1, i as u64).unwrap(), *v);
        }
    }
}
