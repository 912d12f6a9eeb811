//! Credential offers (§4.1): by value (`credential_offer`) and by reference
//! (`credential_offer_uri`), with their `grants`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use idforge_oauth_core::Error;

/// The pre-authorized code grant type (§3.5, §6.1).
pub const PRE_AUTHORIZED_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// The custom scheme wallets register for offers (§4.1.3 example `openid-credential-offer://`).
pub const OFFER_SCHEME: &str = "openid-credential-offer://";

/// Largest credential offer accepted by [`CredentialOffer::from_json`] (bytes).
pub const MAX_OFFER_BYTES: usize = 16 * 1024;
/// Most `credential_configuration_ids` in one offer.
pub const MAX_CONFIGURATION_IDS: usize = 64;
/// Longest `tx_code.description` (§4.1.1: at most 300 characters).
pub const MAX_TX_CODE_DESCRIPTION: usize = 300;

/// A Credential Offer (§4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CredentialOffer {
    /// The Credential Issuer Identifier.
    pub credential_issuer: String,
    /// The offered credential configurations (non-empty, unique).
    pub credential_configuration_ids: Vec<String>,
    /// The grants the wallet may use; when absent it finds them in the metadata.
    #[serde(default, skip_serializing_if = "OfferGrants::is_empty")]
    pub grants: OfferGrants,
}

/// The `grants` object (§4.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OfferGrants {
    /// `authorization_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<AuthorizationCodeOffer>,
    /// `urn:ietf:params:oauth:grant-type:pre-authorized_code`.
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeOffer>,
}

impl OfferGrants {
    /// Whether no grant is named.
    pub fn is_empty(&self) -> bool {
        self.authorization_code.is_none() && self.pre_authorized_code.is_none()
    }
}

/// The `authorization_code` grant of an offer (§4.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizationCodeOffer {
    /// Opaque value the wallet sends back in the authorization request (§5.1.3), binding it to
    /// this offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_state: Option<String>,
    /// Which of the `authorization_servers` to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
}

/// The pre-authorized code grant of an offer (§4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PreAuthorizedCodeOffer {
    /// The code (short-lived, single use, §6.1).
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    /// Present when a Transaction Code is required at the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<TxCode>,
    /// Which of the `authorization_servers` to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
}

/// What the wallet should ask the user for (§4.1.1 `tx_code`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TxCode {
    /// `numeric` (default) or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<InputMode>,
    /// Length of the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// Guidance for the user (at most 300 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl TxCode {
    /// A numeric code of `length` digits.
    pub fn numeric(length: u32) -> Self {
        TxCode {
            input_mode: Some(InputMode::Numeric),
            length: Some(length),
            description: None,
        }
    }

    /// With a description for the user.
    pub fn with_description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
}

/// `tx_code.input_mode` (§4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum InputMode {
    /// Digits only.
    Numeric,
    /// Any characters.
    Text,
}

impl CredentialOffer {
    /// An offer of `ids` by `issuer`, without grants.
    pub fn new<S: Into<String>>(
        issuer: impl Into<String>,
        ids: impl IntoIterator<Item = S>,
    ) -> Self {
        CredentialOffer {
            credential_issuer: issuer.into(),
            credential_configuration_ids: ids.into_iter().map(Into::into).collect(),
            grants: OfferGrants::default(),
        }
    }

    /// Parses and checks an offer (§4.1.1): at most [`MAX_OFFER_BYTES`], `credential_issuer`
    /// an `https` URL, `credential_configuration_ids` non-empty, unique, at most
    /// [`MAX_CONFIGURATION_IDS`], a non-empty `pre-authorized_code`, a `tx_code` description of
    /// at most 300 characters and a positive length.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_OFFER_BYTES {
            return Err(Error::InvalidRequest("credential offer too large".into()));
        }
        let offer: CredentialOffer = serde_json::from_slice(bytes)
            .map_err(|_| Error::InvalidRequest("malformed credential offer".into()))?;
        offer.check()?;
        Ok(offer)
    }

    /// The checks of [`from_json`](Self::from_json) on an offer built in code.
    pub fn check(&self) -> Result<(), Error> {
        let bad = |m: &str| Err(Error::InvalidRequest(m.into()));
        if !self.credential_issuer.starts_with("https://")
            && !is_loopback_http(&self.credential_issuer)
        {
            return bad("`credential_issuer` must be an https URL");
        }
        let ids = &self.credential_configuration_ids;
        if ids.is_empty() || ids.len() > MAX_CONFIGURATION_IDS {
            return bad("`credential_configuration_ids` must have 1 to 64 entries");
        }
        if ids
            .iter()
            .enumerate()
            .any(|(i, a)| a.is_empty() || ids[..i].contains(a))
        {
            return bad("`credential_configuration_ids` must be unique and non-empty");
        }
        if let Some(p) = &self.grants.pre_authorized_code {
            if p.pre_authorized_code.is_empty() {
                return bad("empty `pre-authorized_code`");
            }
            if let Some(t) = &p.tx_code {
                if t.description
                    .as_ref()
                    .is_some_and(|d| d.chars().count() > MAX_TX_CODE_DESCRIPTION)
                {
                    return bad("`tx_code.description` longer than 300 characters");
                }
                if t.length == Some(0) {
                    return bad("`tx_code.length` must be positive");
                }
            }
        }
        Ok(())
    }

    /// The offer as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// `http://localhost` and `http://127.0.0.1` issuers, for development and tests.
pub(crate) fn is_loopback_http(url: &str) -> bool {
    ["http://localhost", "http://127.0.0.1", "http://[::1]"]
        .iter()
        .any(|p| {
            url.strip_prefix(p)
                .is_some_and(|r| r.is_empty() || r.starts_with([':', '/']))
        })
}

/// How an offer reaches the wallet (§4.1): the offer itself or a URL to fetch it from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfferDelivery {
    /// `credential_offer=<JSON>` (§4.1.1).
    ByValue(CredentialOffer),
    /// `credential_offer_uri=<https URL>` (§4.1.3), answered with the offer as JSON.
    ByReference(String),
}

impl OfferDelivery {
    /// The offer URI for a QR code or deep link: `openid-credential-offer://?credential_offer=...`
    /// or `...?credential_offer_uri=...` (§4.1).
    pub fn to_uri(&self) -> String {
        let (name, value) = match self {
            OfferDelivery::ByValue(o) => ("credential_offer", o.to_json().to_string()),
            OfferDelivery::ByReference(u) => ("credential_offer_uri", u.clone()),
        };
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair(name, &value)
            .finish();
        format!("{OFFER_SCHEME}?{q}")
    }

    /// Parses an offer URI (any scheme; the query is what counts). Exactly one of
    /// `credential_offer` and `credential_offer_uri` (§4.1).
    pub fn parse_uri(uri: &str) -> Result<Self, Error> {
        if uri.len() > MAX_OFFER_BYTES * 3 {
            return Err(Error::InvalidRequest("credential offer too large".into()));
        }
        let query = uri.split_once('?').map(|(_, q)| q).unwrap_or(uri);
        let (mut by_value, mut by_ref) = (None, None);
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match k.as_ref() {
                "credential_offer" => &mut by_value,
                "credential_offer_uri" => &mut by_ref,
                _ => continue,
            };
            if slot.replace(v.into_owned()).is_some() {
                return Err(Error::InvalidRequest("repeated offer parameter".into()));
            }
        }
        match (by_value, by_ref) {
            (Some(v), None) => Ok(OfferDelivery::ByValue(CredentialOffer::from_json(
                v.as_bytes(),
            )?)),
            (None, Some(u)) if u.starts_with("https://") || is_loopback_http(&u) => {
                Ok(OfferDelivery::ByReference(u))
            }
            (None, Some(_)) => Err(Error::InvalidRequest(
                "`credential_offer_uri` must be https".into(),
            )),
            _ => Err(Error::InvalidRequest(
                "exactly one of `credential_offer` and `credential_offer_uri` is required".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §4.1.1 non-normative example (both grants).
    const SPEC_EXAMPLE: &str = r#"{
      "credential_issuer": "https://credential-issuer.example.com",
      "credential_configuration_ids": ["UniversityDegreeCredential", "org.iso.18013.5.1.mDL"],
      "grants": {
        "authorization_code": {"issuer_state": "eyJhbGciOiJSU0Et...FYUaBy"},
        "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
          "pre-authorized_code": "adhjhdjajkdkhjhdj",
          "tx_code": {"length": 4, "input_mode": "numeric",
                      "description": "Please provide the one-time code that was sent via e-mail"}
        }
      }
    }"#;

    #[test]
    fn the_spec_example_parses_and_round_trips() {
        let o = CredentialOffer::from_json(SPEC_EXAMPLE.as_bytes()).unwrap();
        let p = o.grants.pre_authorized_code.as_ref().unwrap();
        assert_eq!(p.pre_authorized_code, "adhjhdjajkdkhjhdj");
        assert_eq!(
            p.tx_code.as_ref().unwrap().input_mode,
            Some(InputMode::Numeric)
        );
        assert_eq!(
            o.grants
                .authorization_code
                .as_ref()
                .unwrap()
                .issuer_state
                .as_deref(),
            Some("eyJhbGciOiJSU0Et...FYUaBy")
        );
        let again = CredentialOffer::from_json(o.to_json().to_string().as_bytes()).unwrap();
        assert_eq!(again, o);
        let uri = OfferDelivery::ByValue(o.clone()).to_uri();
        assert!(uri.starts_with("openid-credential-offer://?credential_offer=%7B"));
        assert_eq!(
            OfferDelivery::parse_uri(&uri).unwrap(),
            OfferDelivery::ByValue(o)
        );
        let r = OfferDelivery::ByReference("https://server.example.com/credential-offer/GkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM".into());
        assert_eq!(OfferDelivery::parse_uri(&r.to_uri()).unwrap(), r);
    }

    #[test]
    fn bad_offers_are_refused() {
        for bad in [
            r#"{"credential_issuer":"http://evil.example","credential_configuration_ids":["a"]}"#,
            r#"{"credential_issuer":"https://i.example","credential_configuration_ids":[]}"#,
            r#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a","a"]}"#,
            r#"{"credential_issuer":"https://i.example"}"#,
            r#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":""}}}"#,
            r#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c","tx_code":{"length":0}}}}"#,
            r#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c","tx_code":{"input_mode":"emoji"}}}}"#,
            "[]",
        ] {
            assert!(CredentialOffer::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
        let long = format!(
            r#"{{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{{"pre-authorized_code":"c","tx_code":{{"description":"{}"}}}}}}}}"#,
            "x".repeat(301)
        );
        assert!(CredentialOffer::from_json(long.as_bytes()).is_err());
        assert!(OfferDelivery::parse_uri(
            "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fevil"
        )
        .is_err());
        assert!(OfferDelivery::parse_uri("openid-credential-offer://?x=1").is_err());
        assert!(OfferDelivery::parse_uri(
            "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa&credential_offer_uri=https%3A%2F%2Fb"
        )
        .is_err());
    }
}
