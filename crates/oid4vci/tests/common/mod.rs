//! Shared fixtures: a provider and a credential issuer on the memory stores, with a fixed
//! clock, an ES256 key and two users.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use idforge_jose::{
    crypto::EcCurve, jws, FixedClock, Header, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner,
};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{Client, Config, Error, OsRng, Provider, TokenResponse};
use idforge_oid4vci::memory::{MemoryIssuanceStore, MemoryTemplateStore};
use idforge_oid4vci::request::PROOF_TYP;
use idforge_oid4vci::{
    BindingMethod, ClaimTemplate, CreatedOffer, CredentialAuthorization, CredentialFormat,
    CredentialIssuer, CredentialResponse, CredentialTemplate, DeferredIssuance, Display,
    IssuerCore, IssuerSettings, Notification, NotificationHandler, OfferGrant, OfferRequest,
    PreAuthorizedCodeGrant, WalletClients, PRE_AUTHORIZED_CODE_GRANT,
};
use serde_json::{json, Map, Value};

pub const ISSUER: &str = "https://issuer.example";
pub const NOW: i64 = 1_800_000_000;
pub const ANON: &str = "oid4vci-anonymous";
pub const WALLET_CB: &str = "eu.wallet://cb";
pub const WEB_CB: &str = "https://web.example/cb";

#[derive(Default)]
pub struct Notes(pub Mutex<Vec<Notification>>);

#[async_trait]
impl NotificationHandler for Notes {
    async fn notify(&self, n: Notification) -> Result<(), Error> {
        self.0.lock().unwrap().push(n);
        Ok(())
    }
}

pub struct Env {
    pub provider: Provider,
    pub issuer: CredentialIssuer,
    pub clock: Arc<FixedClock>,
    pub op_key: Key,
    pub notes: Arc<Notes>,
    pub grants: Arc<MemoryGrantStore>,
}

pub fn pid() -> CredentialTemplate {
    CredentialTemplate::new(
        "pid",
        CredentialFormat::SdJwtVc {
            vct: "urn:eudi:pid:1".into(),
        },
    )
    .with_scope("pid")
    .with_display(Display::new("Person ID").with_locale("en"))
    .with_claim(
        ClaimTemplate::new(["given_name"])
            .mandatory()
            .with_display(Display::new("Given name")),
    )
    .with_claim(ClaimTemplate::new(["family_name"]))
    .with_claim(ClaimTemplate::new(["birthdate"]))
    .with_claim(ClaimTemplate::new(["address", "locality"]))
    .with_selectively_disclosable([
        "given_name",
        "family_name",
        "birthdate",
        "address.locality",
    ])
}

pub fn diploma() -> CredentialTemplate {
    CredentialTemplate::new(
        "diploma",
        CredentialFormat::JwtVcJson {
            types: vec![
                "VerifiableCredential".into(),
                "UniversityDegreeCredential".into(),
            ],
        },
    )
    .with_scope("diploma")
    .with_claim(ClaimTemplate::new(["given_name"]).mandatory())
    .with_claim(ClaimTemplate::new(["degree"]))
}

pub fn badge() -> CredentialTemplate {
    CredentialTemplate::new(
        "badge",
        CredentialFormat::SdJwtVc {
            vct: "urn:example:badge".into(),
        },
    )
    .with_claim(ClaimTemplate::new(["given_name"]))
    .without_binding()
}

/// A PID bound by DID URL proofs as well as by `jwk`/`x5c` (OID4VCI 1.0 Appendix F.1).
pub fn pid_did() -> CredentialTemplate {
    CredentialTemplate::new(
        "pid-did",
        CredentialFormat::SdJwtVc {
            vct: "urn:eudi:pid:1".into(),
        },
    )
    .with_claim(ClaimTemplate::new(["given_name"]).mandatory())
    .with_binding_methods([
        BindingMethod::Jwk,
        BindingMethod::DidJwk,
        BindingMethod::DidKey,
    ])
}

pub fn settings() -> IssuerSettings {
    IssuerSettings::default()
        .with_anonymous_access(ANON)
        .with_batch_size(3)
}

pub fn env() -> Env {
    env_with(settings(), None)
}

pub fn env_with(settings: IssuerSettings, deferred: Option<Arc<dyn DeferredIssuance>>) -> Env {
    let op_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let op_key = Key::from_jwk(op_key.jwk().clone().with_kid("issuer-1")).unwrap();
    let ring = KeyRing::new(LocalSigner::new(op_key.clone(), JwsAlgorithm::ES256).unwrap());
    let clients = Arc::new(MemoryClientStore::with_clients([
        Client::public("wallet")
            .with_redirect_uri(WALLET_CB)
            .with_grant_types([PRE_AUTHORIZED_CODE_GRANT, "authorization_code"])
            .with_consent_implied(),
        Client::public(ANON).with_grant_types([PRE_AUTHORIZED_CODE_GRANT]),
        Client::public("web")
            .with_redirect_uri(WEB_CB)
            .with_grant_types(["authorization_code"])
            .with_consent_implied(),
    ]));
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    let alice = json!({"given_name": "Erika", "family_name": "Mustermann",
                       "birthdate": "1963-08-12", "address": {"locality": "Köln"},
                       "degree": "MSc"});
    users
        .add_user(
            "alice",
            "pw",
            alice.as_object().unwrap().clone(),
            &OsRng::new(),
        )
        .unwrap();
    users
        .add_user("bob", "pw", Map::new(), &OsRng::new())
        .unwrap();
    let grants = Arc::new(MemoryGrantStore::new());
    let clock = Arc::new(FixedClock::new(NOW));
    let templates = Arc::new(
        MemoryTemplateStore::with_templates([pid(), diploma(), badge(), pid_did()]).unwrap(),
    );
    let core = IssuerCore::new(settings, templates, Arc::new(MemoryIssuanceStore::new())).unwrap();
    let mut config = Config::new(ISSUER);
    config
        .scopes_supported
        .extend(["pid".to_owned(), "diploma".to_owned()]);
    let provider = Provider::builder(config)
        .clients(clients)
        .grants(grants.clone())
        .claims(users.clone())
        .passwords(users)
        .keys(Arc::new(ring))
        .clock(clock.clone())
        .grant_handler(Arc::new(PreAuthorizedCodeGrant::new(core.clone())))
        .authorization_extension(Arc::new(
            CredentialAuthorization::new(core.clone(), ISSUER, clock.clone())
                .with_wallet_clients(WalletClients::Only(vec!["wallet".into()])),
        ))
        .build()
        .unwrap();
    let notes = Arc::new(Notes::default());
    let mut issuer =
        CredentialIssuer::new(provider.ctx.clone(), core).with_notifications(notes.clone());
    if let Some(d) = deferred {
        issuer = issuer.with_deferred(d);
    }
    Env {
        provider,
        issuer,
        clock,
        op_key,
        notes,
        grants,
    }
}

pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Env {
    pub async fn offer(&self, ids: &[&str], tx: Option<u32>) -> CreatedOffer {
        self.issuer
            .create_offer(&OfferRequest::new(
                "alice",
                ids.iter().copied(),
                OfferGrant::PreAuthorized { tx_code_length: tx },
            ))
            .await
            .unwrap()
    }

    /// Redeems a pre-authorized code; `client` None = anonymous.
    pub async fn redeem(
        &self,
        code: &str,
        tx_code: Option<&str>,
        client: Option<&str>,
        extra: &str,
    ) -> Result<TokenResponse, Error> {
        let mut body = format!(
            "grant_type={}&pre-authorized_code={}",
            enc(PRE_AUTHORIZED_CODE_GRANT),
            enc(code)
        );
        if let Some(t) = tx_code {
            body.push_str(&format!("&tx_code={}", enc(t)));
        }
        if let Some(c) = client {
            body.push_str(&format!("&client_id={c}"));
        }
        body.push_str(extra);
        self.provider.token.handle_form(body.as_bytes(), None).await
    }

    /// Offer + anonymous redemption of `ids`: the access token.
    pub async fn anonymous_token(&self, ids: &[&str]) -> String {
        let o = self.offer(ids, None).await;
        let code = o
            .offer
            .grants
            .pre_authorized_code
            .unwrap()
            .pre_authorized_code;
        self.redeem(&code, None, None, "")
            .await
            .unwrap()
            .access_token
    }

    pub async fn nonce(&self) -> String {
        self.issuer.nonce().await.unwrap()["c_nonce"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn credential(&self, token: &str, body: Value) -> Result<CredentialResponse, Error> {
        self.issuer
            .credential(
                Some(&format!("Bearer {token}")),
                body.to_string().as_bytes(),
            )
            .await
    }
}

pub fn holder() -> Key {
    Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap()
}

pub fn proof_header(key: &Key) -> Header {
    Header::new()
        .with_typ(PROOF_TYP)
        .with("jwk", key.public_jwk().unwrap().to_value())
}

pub fn proof_claims(nonce: &str) -> Value {
    json!({"aud": ISSUER, "iat": NOW, "nonce": nonce})
}

pub fn sign_proof(key: &Key, header: Header, claims: &Value) -> String {
    jws::sign_compact(
        header,
        claims.to_string().as_bytes(),
        &LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap(),
    )
    .unwrap()
}

pub fn proof(key: &Key, nonce: &str) -> String {
    sign_proof(key, proof_header(key), &proof_claims(nonce))
}

pub fn request(config: &str, proofs: &[String]) -> Value {
    json!({"credential_configuration_id": config, "proofs": {"jwt": proofs}})
}
