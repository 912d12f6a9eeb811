//! Every [`SamlAttack`] against idforge-saml-sp's own validator: each is refused, and for the
//! reason the attack is about (the error each case of `crates/saml-sp/tests/attacks.rs`
//! expects), so a fixture that broke the XML some other way would fail here.

use idforge_saml_sp::response::{validate_response, RequestCheck, SpConfig, ValidatedResponse};
use idforge_saml_sp::{Error, Result};
use idforge_testing::saml::{Expected, SamlAttack, Signing, TestSamlIdp, EVIL_NAME_ID};
use time::OffsetDateTime;

const IDP: &str = "https://idp.example.org/idp";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time")
}

fn sp() -> SpConfig {
    SpConfig::new(
        "https://sp.example.com/metadata",
        "https://sp.example.com/acs",
    )
}

fn check(idp: &TestSamlIdp, xml: &str) -> Result<ValidatedResponse> {
    validate_response(
        xml.as_bytes(),
        &sp(),
        &idp.trusted().expect("trusted"),
        &RequestCheck::Exact("_req1".into()),
        now(),
    )
}

/// The error class saml-sp's attack suite expects for each attack.
fn is_expected_error(attack: SamlAttack, e: &Error) -> bool {
    use SamlAttack::*;
    match attack {
        XswAssertionInExtensions
        | XswAssertionInSignatureObject
        | UnsignedAssertionBesideSigned => {
            matches!(e, Error::AssertionCount(_))
        }
        XswClonedAssertionSameId => matches!(e, Error::AssertionCount(_) | Error::DuplicateId(_)),
        DuplicateId => matches!(e, Error::DuplicateId(_)),
        SignatureStripped => matches!(e, Error::SignatureMissing(_)),
        SignatureOverOtherElement | WholeDocumentReference => {
            matches!(e, Error::ReferenceInvalid(_))
        }
        NamespaceConfusion => matches!(e, Error::AssertionCount(_) | Error::SignatureInvalid(_)),
        DoctypeEntity | XxeExternalEntity | BillionLaughs => *e == Error::DtdForbidden,
        DuplicateAttribute => matches!(e, Error::MalformedXml(_)),
        TamperedAfterSigning | UntrustedKey => matches!(e, Error::SignatureInvalid(_)),
        Sha1Signature | HmacOutputLength | XpathTransform => matches!(e, Error::Unsupported(_)),
        WrongIssuer => matches!(e, Error::WrongIssuer(_)),
        WrongAudience => *e == Error::WrongAudience,
        WrongRecipient => matches!(e, Error::WrongRecipient(_)),
        WrongDestination => matches!(e, Error::WrongDestination(_)),
        Expired => matches!(e, Error::Expired(_)),
        NotYetValid => matches!(e, Error::NotYetValid(_)),
        InResponseToMismatch | BearerInResponseToMismatch => {
            matches!(e, Error::InResponseToMismatch(_))
        }
        CommentInjectionInNameId => false,
        _ => false,
    }
}

#[test]
fn the_valid_response_is_accepted_in_every_signing_mode() {
    let idp = TestSamlIdp::fixed(IDP).expect("idp");
    for signing in [Signing::Assertion, Signing::Response, Signing::Both] {
        let spec = idp.response_spec(&sp(), Some("_req1"), now());
        let v = check(&idp, &idp.response(&spec, signing).expect("sign")).expect("valid");
        assert_eq!(
            v.assertion.name_id.expect("nameid").value,
            "alice@example.com"
        );
        let (a, r) = (v.assertion.signed.assertion, v.assertion.signed.response);
        assert_eq!(
            (a, r),
            match signing {
                Signing::Assertion => (true, false),
                Signing::Response => (false, true),
                _ => (true, true),
            }
        );
    }
    let spec = idp.response_spec(&sp(), Some("_req1"), now());
    let unsigned = idp.response(&spec, Signing::Unsigned).expect("xml");
    assert!(matches!(
        check(&idp, &unsigned),
        Err(Error::SignatureMissing(_))
    ));
}

#[test]
fn every_attack_is_rejected_by_saml_sp_for_its_own_reason() {
    let idp = TestSamlIdp::fixed(IDP).expect("idp");
    assert_eq!(SamlAttack::ALL.len(), 27);
    for &attack in SamlAttack::ALL {
        let spec = idp.response_spec(&sp(), Some("_req1"), now());
        let xml = idp.attack(&spec, attack).expect("attack builds");
        let outcome = check(&idp, &xml);
        match attack.expected() {
            Expected::Rejected => {
                let e = outcome.expect_err(attack.name());
                assert!(is_expected_error(attack, &e), "{attack}: {e:?}");
            }
            Expected::RejectedOrNameId(name) => {
                // saml-sp reads the whole text: the signature holds and the NameID is the
                // signed one, never the truncated `alice@example.com`.
                let v = outcome.expect("saml-sp accepts the canonical value");
                assert_eq!(v.assertion.name_id.expect("nameid").value, name);
            }
        }
    }
}

#[test]
fn wrapping_attacks_carry_an_evil_assertion() {
    let idp = TestSamlIdp::fixed(IDP).expect("idp");
    for attack in [
        SamlAttack::XswAssertionInExtensions,
        SamlAttack::XswClonedAssertionSameId,
        SamlAttack::XswAssertionInSignatureObject,
        SamlAttack::UnsignedAssertionBesideSigned,
    ] {
        let spec = idp.response_spec(&sp(), Some("_req1"), now());
        let xml = idp.attack(&spec, attack).expect("attack");
        assert!(xml.contains(EVIL_NAME_ID), "{attack}");
        assert_eq!(xml.matches("<saml:Assertion ").count(), 2, "{attack}");
    }
}

#[test]
fn sha1_is_accepted_only_when_the_sp_opts_in() {
    let idp = TestSamlIdp::fixed(IDP).expect("idp");
    let spec = idp.response_spec(&sp(), Some("_req1"), now());
    let xml = idp
        .attack(&spec, SamlAttack::Sha1Signature)
        .expect("attack");
    let mut cfg = sp();
    cfg.allow_sha1 = true;
    let v = validate_response(
        xml.as_bytes(),
        &cfg,
        &idp.trusted().expect("trusted"),
        &RequestCheck::Exact("_req1".into()),
        now(),
    );
    assert!(v.is_ok(), "{v:?}");
}

#[test]
fn the_fixed_idp_is_byte_identical_for_a_seed() {
    let run = |seed: u64| {
        let idp = TestSamlIdp::fixed(IDP).expect("idp").with_seed(seed);
        let spec = idp.response_spec(&sp(), Some("_req1"), now());
        idp.response(&spec, Signing::Both).expect("sign")
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
    // Consecutive specs from one IdP get fresh IDs.
    let idp = TestSamlIdp::fixed(IDP).expect("idp");
    let a = idp.response_spec(&sp(), None, now());
    let b = idp.response_spec(&sp(), None, now());
    assert_ne!(a.response_id, b.response_id);
    assert_ne!(a.assertion_id, b.assertion_id);
}

#[test]
fn attack_names_are_unique_and_stable() {
    let mut names: Vec<_> = SamlAttack::ALL.iter().map(|a| a.name()).collect();
    assert_eq!(
        SamlAttack::XswAssertionInExtensions.to_string(),
        "xsw_assertion_in_extensions"
    );
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SamlAttack::ALL.len());
}

#[test]
fn bearer_mismatch_needs_a_solicited_spec() {
    let idp = TestSamlIdp::fixed(IDP).expect("idp");
    let spec = idp.response_spec(&sp(), None, now());
    assert!(matches!(
        idp.attack(&spec, SamlAttack::BearerInResponseToMismatch),
        Err(Error::MalformedMessage(_))
    ));
}
