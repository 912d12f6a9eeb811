// Shared by the saml_* fuzz targets (included with `include!`): a fixed IdP certificate whose
// key signed the seed corpora (corpus/saml_response/*), so seeds get past signature checks, and a
// fixed "now" inside the seeds' validity window.

/// Test-only IdP certificate (its private key is not kept anywhere).
const IDP_CERT_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIDFzCCAf+gAwIBAgIUazLzjMVDjYf07YPtCug9bCFbSzAwDQYJKoZIhvcNAQEL
BQAwGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUub3JnMCAXDTI2MTEyMzE2MDUyMVoY
DzIxMjYxMDMwMTYwNTIxWjAaMRgwFgYDVQQDDA9pZHAuZXhhbXBsZS5vcmcwggEi
MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCTD8wmHVOOlJs6raX1VFyiWYaF
to/+4J0XVG8vLAVfJPS0JNmSi3E1q0SZgnyFacUOFoIT2eLiwsEJ8aviTaa5qd84
LW6xn/Wi929Amjs11ipv1/RkOgEA5fCugcyBDZ4M3LWpt3t9s+JDYuvOwScdcVa+
8wuGku8v6csb4KSciyRdzsrhMlNrdFyBj/VGB7DVZ+ZjYCmMKeV1h/cf4MI7LMrA
sD2tpFHeKBwTNEbmARkysd9/P20aqW61YN/apeVFEuqLIyZUIeBjpd/VJj1z4vVg
5aRF1KeZhqSaBMzc9M6mjuHZ7s+DUeaVFOozvJwPlOha1h6lNLxY8vO+IMhXAgMB
AAGjUzBRMB0GA1UdDgQWBBREMk/OPBOY4tYvk10uZVIf+a+0ZDAfBgNVHSMEGDAW
gBREMk/OPBOY4tYvk10uZVIf+a+0ZDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3
DQEBCwUAA4IBAQB2UjT3ZrkcXIXgrsKzN1EivSXxJX1A3BtPpWP5dGl842uv6L2o
QGjLbiXXtroYOarsD9wAI4+CJ2uuSLNbz8O9DsojbojqxT4b0iFIVKnr3biJ/fgF
HCC8lMuWe5giWBCE0wsQNTbZAKPQppEkGtEGrRYqzRvDcEp46yrivnTY+VPptzkN
KC+xR7RUMlfzwjJAU7gxxuoe8P5Kfw4KYvIZXF4ZU8zVVKukDvsDpD9iLaLA5Wib
8IK0G5JzXw+PQ3mjmpFCeKzG4lzwmRNP+41MaZL0fhlr3Zqe0PxvD8eUyenO2B3X
Lv7+auEFqGuo1ydh63nqIi/bND2qInVBn7uH
-----END CERTIFICATE-----
";

#[allow(dead_code)]
fn idp() -> &'static idforge_saml_sp::response::IdentityProvider {
    static IDP: std::sync::OnceLock<idforge_saml_sp::response::IdentityProvider> = std::sync::OnceLock::new();
    IDP.get_or_init(|| idforge_saml_sp::response::IdentityProvider {
        entity_id: "https://idp.example.org/idp".to_owned(),
        signing_keys: idforge_saml_sp::response::TrustedKey::from_certificate_pem(IDP_CERT_PEM.as_bytes())
            .expect("fixed certificate"),
    })
}

#[allow(dead_code)]
fn fixed_now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_795_449_660).expect("time") // 2026-11-23T16:01:00Z
}

#[allow(dead_code)]
fn sp_config() -> idforge_saml_sp::response::SpConfig {
    idforge_saml_sp::response::SpConfig::new("https://sp.example.com/metadata", "https://sp.example.com/acs")
}
