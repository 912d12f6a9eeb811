//! IdP metadata parsing, pinned-signature verification, the refresh state machine (rollover,
//! last-good retention, backoff) and SP metadata generation.

mod common;

use common::saml::*;
use idforge_saml_sp::authn::BINDING_REDIRECT;
use idforge_saml_sp::metadata::{
    parse_duration, parse_idp_metadata, MetadataFetcher, MetadataOptions, MetadataRefresher,
    RefreshOutcome, RefreshPolicy, SpMetadata,
};
use idforge_saml_sp::response::{validate_response, RequestCheck};
use idforge_saml_sp::testkit::TestIdp;
use idforge_saml_sp::Error;
use time::Duration;

const SSO: &str = "https://idp.example.org/sso";

#[test]
fn parses_idp_metadata() {
    let xml = idp().metadata_xml(SSO, &[], Some(now() + Duration::days(7)), Some("PT6H"));
    let md =
        parse_idp_metadata(xml.as_bytes(), &MetadataOptions::default(), now()).expect("metadata");
    assert_eq!(md.entity_id, IDP);
    assert_eq!(md.signing_keys.len(), 1);
    assert_eq!(md.cache_duration, Some(Duration::hours(6)));
    assert_eq!(md.sso_location(BINDING_REDIRECT), Some(SSO));
    assert!(md.want_authn_requests_signed);
    assert!(!md.signed);
    // The metadata's keys validate the IdP's responses.
    let s = spec();
    let resp = idp().signed_response(&s, true, false).expect("sign");
    validate_response(
        resp.as_bytes(),
        &sp(),
        &md.identity_provider(),
        &RequestCheck::Exact("_req1".into()),
        now(),
    )
    .expect("valid");
}

#[test]
fn expired_metadata_is_refused() {
    let xml = idp().metadata_xml(SSO, &[], Some(now() - Duration::hours(1)), None);
    let err = parse_idp_metadata(xml.as_bytes(), &MetadataOptions::default(), now())
        .expect_err("expired");
    assert!(matches!(err, Error::Metadata(_)), "{err:?}");
}

#[test]
fn pinned_signature_is_required_and_checked() {
    let pin = attacker().trusted().expect("t").signing_keys[0].key.clone();
    let opts = MetadataOptions {
        pinned_keys: vec![pin],
        ..MetadataOptions::default()
    };
    let xml = idp().metadata_xml(SSO, &[], None, None);
    assert!(matches!(
        parse_idp_metadata(xml.as_bytes(), &opts, now()),
        Err(Error::SignatureMissing(_))
    ));
    let signed = attacker().sign(&xml, "_md").expect("sign");
    let md = parse_idp_metadata(signed.as_bytes(), &opts, now()).expect("signed by the pinned key");
    assert!(md.signed);
    let wrong = idp().sign(&xml, "_md").expect("sign");
    assert!(matches!(
        parse_idp_metadata(wrong.as_bytes(), &opts, now()),
        Err(Error::SignatureInvalid(_))
    ));
    let tampered = signed.replace(SSO, "https://evil.example.com/sso");
    assert!(matches!(
        parse_idp_metadata(tampered.as_bytes(), &opts, now()),
        Err(Error::SignatureInvalid(_))
    ));
}

#[test]
fn durations() {
    assert_eq!(parse_duration("PT1H30M").expect("d"), Duration::minutes(90));
    assert_eq!(parse_duration("P1D").expect("d"), Duration::days(1));
    assert_eq!(
        parse_duration("P0Y0M1DT0H0M0.5S").expect("d"),
        Duration::days(1) + Duration::milliseconds(500)
    );
    for bad in ["", "P", "1D", "PT", "P1H", "PT1D", "P1.2.3D", "PT5"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

struct Fixed(Result<Vec<u8>, Error>);

#[async_trait::async_trait]
impl MetadataFetcher for Fixed {
    async fn fetch(&self, _url: &str) -> Result<Vec<u8>, Error> {
        self.0.clone()
    }
}

#[tokio::test]
async fn refresh_state_machine_rollover_last_good_and_backoff() {
    let t0 = now();
    let policy = RefreshPolicy::default();
    let mut r = MetadataRefresher::new(
        "https://idp.example.org/metadata",
        policy,
        MetadataOptions::default(),
        None,
        t0,
    );
    assert!(r.due(t0));
    assert!(r.identity_provider().is_none());

    // First document: one certificate, cacheDuration 6h -> next refresh in 6h.
    let v1 = idp().metadata_xml(SSO, &[], None, Some("PT6H"));
    let out = r.refresh(&Fixed(Ok(v1.into_bytes())), t0).await;
    assert_eq!(
        out,
        RefreshOutcome::Updated {
            next_refresh_at: t0 + Duration::hours(6)
        }
    );
    assert!(!r.due(t0 + Duration::hours(1)));

    // Rollover: the IdP publishes old and new certificates; responses from both validate.
    let new_idp = TestIdp::generate_rsa(IDP).expect("new key");
    let v2 = idp().metadata_xml(
        SSO,
        std::slice::from_ref(&new_idp.certificate),
        None,
        Some("PT1M"),
    );
    let t1 = t0 + Duration::hours(6);
    let out = r.refresh(&Fixed(Ok(v2.into_bytes())), t1).await;
    // cacheDuration 1 minute is clamped to the 5-minute minimum.
    assert_eq!(
        out,
        RefreshOutcome::Updated {
            next_refresh_at: t1 + Duration::minutes(5)
        }
    );
    let trusted = r.identity_provider().expect("trusted");
    assert_eq!(trusted.signing_keys.len(), 2);
    for signer in [idp(), &new_idp] {
        let s = spec();
        let resp = signer.signed_response(&s, true, false).expect("sign");
        validate_response(
            resp.as_bytes(),
            &sp(),
            &trusted,
            &RequestCheck::Exact("_req1".into()),
            now(),
        )
        .expect("valid");
    }

    // Failures keep the last good set and back off exponentially.
    let t2 = t1 + Duration::minutes(5);
    let out = r
        .refresh(&Fixed(Err(Error::Store("HTTP 503".into()))), t2)
        .await;
    assert!(matches!(
        out,
        RefreshOutcome::Failed {
            consecutive_failures: 1,
            ..
        }
    ));
    assert_eq!(r.next_refresh_at(), t2 + Duration::minutes(1));
    let out = r.refresh(&Fixed(Ok(b"<not metadata".to_vec())), t2).await;
    assert!(matches!(
        out,
        RefreshOutcome::Failed {
            consecutive_failures: 2,
            error: Error::MalformedXml(_),
            ..
        }
    ));
    assert_eq!(r.next_refresh_at(), t2 + Duration::minutes(2));
    let expired = idp().metadata_xml(SSO, &[], Some(t2 - Duration::hours(1)), None);
    let out = r.refresh(&Fixed(Ok(expired.into_bytes())), t2).await;
    assert!(matches!(
        out,
        RefreshOutcome::Failed {
            consecutive_failures: 3,
            error: Error::Metadata(_),
            ..
        }
    ));
    assert_eq!(
        r.identity_provider().expect("last good").signing_keys.len(),
        2
    );

    // validUntil pulls the next refresh earlier (half of what is left), then success resets.
    let v3 = idp().metadata_xml(SSO, &[], Some(t2 + Duration::hours(2)), Some("P1D"));
    let out = r.refresh(&Fixed(Ok(v3.into_bytes())), t2).await;
    assert_eq!(
        out,
        RefreshOutcome::Updated {
            next_refresh_at: t2 + Duration::hours(1)
        }
    );
    assert_eq!(r.identity_provider().expect("new").signing_keys.len(), 1);
}

#[test]
fn sp_metadata_round_trips_through_a_parser() {
    let md = SpMetadata {
        entity_id: SP.into(),
        acs_urls: vec![ACS.into(), "https://sp.example.com/acs2".into()],
        signing_certificate: Some(idp().certificate.clone()),
        authn_requests_signed: true,
        want_assertions_signed: true,
        name_id_formats: vec!["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into()],
        ..SpMetadata::default()
    };
    let xml = md.to_xml();
    let doc = idforge_saml_sp::xml::parse(&xml, &Default::default()).expect("well-formed");
    let root = doc.root_element();
    assert_eq!(root.attribute("entityID"), Some(SP));
    let acs: Vec<_> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AssertionConsumerService")
        .map(|n| {
            (
                n.attribute("Location"),
                n.attribute("index"),
                n.attribute("isDefault"),
            )
        })
        .collect();
    assert_eq!(
        acs,
        vec![
            (Some(ACS), Some("0"), Some("true")),
            (Some("https://sp.example.com/acs2"), Some("1"), None)
        ]
    );
    assert!(xml.contains("AuthnRequestsSigned=\"true\" WantAssertionsSigned=\"true\""));
    assert!(xml.contains("<md:KeyDescriptor use=\"signing\">"));
}

#[test]
fn entities_descriptor_with_several_idps() {
    let a = idp()
        .metadata_xml(SSO, &[], None, Some("PT2H"))
        .replace(" ID=\"_md\"", "");
    let other = TestIdp::generate_rsa("https://other-idp.example.org").expect("other");
    let b = other
        .metadata_xml("https://other-idp.example.org/sso", &[], None, None)
        .replace(" ID=\"_md\"", "");
    let agg = format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" cacheDuration=\"PT1H\" validUntil=\"{}\">{a}{b}</md:EntitiesDescriptor>",
        (now() + Duration::days(1)).format(&time::format_description::well_known::Rfc3339).expect("fmt")
    );
    assert!(matches!(
        parse_idp_metadata(agg.as_bytes(), &MetadataOptions::default(), now()),
        Err(Error::Metadata(_))
    ));
    let opts = MetadataOptions {
        entity_id: Some("https://other-idp.example.org".into()),
        ..MetadataOptions::default()
    };
    let md = parse_idp_metadata(agg.as_bytes(), &opts, now()).expect("selected");
    assert_eq!(md.entity_id, "https://other-idp.example.org");
    // The group's cacheDuration (smaller) and validUntil apply to the entity.
    assert_eq!(md.cache_duration, Some(Duration::hours(1)));
    assert!(md.valid_until.is_some());
    let opts = MetadataOptions {
        entity_id: Some(IDP.into()),
        ..MetadataOptions::default()
    };
    let md = parse_idp_metadata(agg.as_bytes(), &opts, now()).expect("selected");
    assert_eq!(md.cache_duration, Some(Duration::hours(1)));
    let opts = MetadataOptions {
        entity_id: Some("https://nobody".into()),
        ..MetadataOptions::default()
    };
    assert!(parse_idp_metadata(agg.as_bytes(), &opts, now()).is_err());
}
