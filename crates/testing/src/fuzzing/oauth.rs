//! OAuth 2.0 / OpenID Connect request parsers and endpoints (idforge-oauth-core).

use std::sync::{Arc, OnceLock};

use idforge_jose::{crypto::EcCurve, JwkSet, Key, KeySpec};
use idforge_oauth_core::device::{
    DeviceSettings, UserCode, UserCodeSubmission, DEVICE_CODE_GRANT_TYPE, USER_CODE_ALPHABET,
};
use idforge_oauth_core::endpoint::end_session::EndSessionRequest;
use idforge_oauth_core::endpoint::userinfo::{parse_bearer, BearerCredentials};
use idforge_oauth_core::memory::{
    MemoryAttemptLimiter, MemoryClientStore, MemoryDeviceCodeStore, MemoryGrantStore,
    MemoryPushedRequestStore, MemorySessionStore, MemoryUserStore,
};
use idforge_oauth_core::token_exchange::{
    TokenExchangeRequest, TrustedIssuer, TOKEN_EXCHANGE_GRANT_TYPE,
};
use idforge_oauth_core::{
    Client, Config, DeviceAuthorizationEndpoint, DeviceFlow, Interaction, Limits, Login,
    LogoutStep, OsRng, Params, Provider, Session, TokenExchangeGrant, TokenRequest,
};

use super::fixtures::*;

/// The provider of the authorization, token and PAR entry points: clients `web`
/// (confidential, `https://rp.example/cb`, code/refresh/client credentials/password, consent
/// implied) and `spa` (public, `http://127.0.0.1/cb`), user `alice` / `pw`.
pub fn oauth_provider() -> &'static Provider {
    static P: OnceLock<Provider> = OnceLock::new();
    P.get_or_init(|| {
        let users = Arc::new(MemoryUserStore::new().with_iterations(1));
        users
            .add_user("alice", "pw", serde_json::Map::new(), &OsRng::new())
            .expect("user");
        Provider::builder(Config::new("https://op.example").with_grant_type("password"))
            .clients(Arc::new(MemoryClientStore::with_clients([
                Client::confidential("web", "web-secret")
                    .with_redirect_uri("https://rp.example/cb")
                    .with_grant_types([
                        "authorization_code",
                        "refresh_token",
                        "client_credentials",
                        "password",
                    ])
                    .with_consent_implied(),
                Client::public("spa").with_redirect_uri("http://127.0.0.1/cb"),
            ])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .pushed_requests(Arc::new(MemoryPushedRequestStore::new()))
            .claims(users.clone())
            .passwords(users)
            .keys(ring())
            .clock(clock())
            .build()
            .expect("provider")
    })
}

/// A logged-in `alice` (the authorization and PAR entry points need one).
pub fn oauth_session() -> Session {
    Session::new("alice", NOW)
}

fn device_endpoint() -> &'static DeviceAuthorizationEndpoint {
    static E: OnceLock<DeviceAuthorizationEndpoint> = OnceLock::new();
    E.get_or_init(|| {
        let flow = DeviceFlow::new(
            DeviceSettings::new(),
            Arc::new(MemoryDeviceCodeStore::with_capacity(10_000)),
            Arc::new(MemoryAttemptLimiter::new()),
        )
        .expect("flow");
        let users = Arc::new(MemoryUserStore::new().with_iterations(1));
        let p = Provider::builder(Config::new("https://op.example"))
            .clients(Arc::new(MemoryClientStore::with_clients([
                Client::public("tv").with_grant_types([DEVICE_CODE_GRANT_TYPE]),
                Client::confidential("box", "box-secret")
                    .with_grant_types([DEVICE_CODE_GRANT_TYPE]),
            ])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .claims(users)
            .keys(ring())
            .clock(clock())
            .grant_handler(flow.grant())
            .build()
            .expect("provider");
        DeviceAuthorizationEndpoint::new(p.ctx.clone(), flow)
    })
}

fn exchange_provider() -> &'static Provider {
    static P: OnceLock<Provider> = OnceLock::new();
    P.get_or_init(|| {
        let idp = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
        let jwks = JwkSet {
            keys: vec![idp.public_jwk().expect("public")],
        };
        let users = Arc::new(MemoryUserStore::new().with_iterations(1));
        let grant = TokenExchangeGrant::new()
            .with_trusted_issuer(
                TrustedIssuer::with_jwks("https://idp.example", &jwks)
                    .expect("issuer")
                    .with_lookup_attributes(["email"])
                    .expect("lookup"),
            )
            .with_user_lookup(users.clone());
        Provider::builder(Config::new("https://op.example"))
            .clients(Arc::new(MemoryClientStore::with_clients([
                Client::confidential("rp", "rp-secret")
                    .with_grant_types([TOKEN_EXCHANGE_GRANT_TYPE, "client_credentials"])
                    .with_metadata("allow_impersonation", serde_json::json!(true)),
            ])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .claims(users)
            .keys(ring())
            .clock(clock())
            .grant_handler(Arc::new(grant))
            .build()
            .expect("provider")
    })
}

const BYE: &str = "https://rp.example/bye";

fn end_session_provider() -> &'static Provider {
    static P: OnceLock<Provider> = OnceLock::new();
    P.get_or_init(|| {
        Provider::builder(Config::new("https://op.example"))
            .clients(Arc::new(MemoryClientStore::with_clients([
                Client::confidential("rp", "rp-secret")
                    .with_redirect_uri("https://rp.example/cb")
                    .with_post_logout_redirect_uri(BYE)
                    .with_frontchannel_logout("https://rp.example/fc", true),
            ])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .sessions(Arc::new(MemorySessionStore::with_capacity(10_000)))
            .claims(Arc::new(MemoryUserStore::new().with_iterations(1)))
            .keys(ring())
            .clock(clock())
            .build()
            .expect("provider")
    })
}

/// The authorization request parser and state machine (RFC 6749 §4.1.1, OIDC Core §3.1.2.1)
/// on arbitrary query strings: never a panic, and a redirect only ever goes to a registered URI.
pub fn oauth_authorize_query(data: &[u8]) {
    let p = oauth_provider();
    let session = oauth_session();
    for s in [None, Some(&session)] {
        match block_on(p.authorization.start(data, s)) {
            Interaction::Redirect(r) => {
                assert!(
                    r.redirect_uri == "https://rp.example/cb"
                        || r.redirect_uri.starts_with("http://127.0.0.1"),
                    "redirect to an unregistered URI: {}",
                    r.redirect_uri
                );
                let _ = r.location();
                let _ = r.form_post_html();
            }
            Interaction::Login { .. } | Interaction::Consent { .. } | Interaction::ShowError(_) => {
            }
        }
    }
}

/// The token request form parser and the token endpoint (RFC 6749 §3.2, §4.1.3, §6): arbitrary
/// bodies and `Authorization` headers never panic; errors carry a registered code and status.
pub fn oauth_token_form(data: &[u8]) {
    let p = oauth_provider();
    let (auth, body) = header_and_body(data);
    let Ok(req) = TokenRequest::from_form(body, auth, &Limits::default()) else {
        return;
    };
    if let Err(e) = block_on(p.token.handle(&req)) {
        assert!(!e.code().is_empty());
        assert!((400..=503).contains(&e.status()));
    }
    let _ = block_on(p.introspection.handle(&req));
    let _ = block_on(p.revocation.handle(&req));
}

/// The pushed authorization request endpoint (RFC 9126 §2): arbitrary bodies and
/// `Authorization` headers never panic; errors carry a registered code and an HTTP status, and
/// a success is a `request_uri` URN that the authorization endpoint accepts exactly once.
pub fn oauth_par_form(data: &[u8]) {
    let p = oauth_provider();
    let (auth, body) = header_and_body(data);
    match block_on(p.pushed_authorization.handle_form(body, auth.as_deref())) {
        Err(e) => {
            assert!(!e.code().is_empty());
            assert!((400..=503).contains(&e.status()));
        }
        Ok(r) => {
            assert!(r
                .request_uri
                .starts_with("urn:ietf:params:oauth:request_uri:"));
            // RFC 9126 §4: single use.
            let q = |uri: &str| format!("client_id=web&request_uri={uri}");
            let first = block_on(
                p.authorization
                    .start(q(&r.request_uri).as_bytes(), Some(&oauth_session())),
            );
            assert!(!matches!(first, Interaction::ShowError(_)), "{first:?}");
            let second = block_on(
                p.authorization
                    .start(q(&r.request_uri).as_bytes(), Some(&oauth_session())),
            );
            match second {
                Interaction::Redirect(resp) => assert!(resp.param("error").is_some()),
                Interaction::ShowError(_) => {}
                other => panic!("a request_uri was accepted twice: {other:?}"),
            }
        }
    }
}

/// The device authorization grant's parsers (RFC 8628): the device authorization request form
/// (§3.1) through the endpoint, the app-native JSON submission, and user-code input (§6.1).
/// Arbitrary input never panics; errors carry a registered code and status; a parsed user code
/// is always 8 characters of the RFC 8628 §6.1 alphabet.
pub fn oauth_device_authorization(data: &[u8]) {
    let (auth, body) = header_and_body(data);
    match block_on(device_endpoint().handle_form(body, auth.as_deref())) {
        Ok(r) => {
            let code = UserCode::parse(&r.user_code).expect("issued user codes parse");
            assert_eq!(code.display(), r.user_code);
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            assert!((400..=503).contains(&e.status()));
        }
    }
    if let Ok(s) = UserCodeSubmission::from_json(data) {
        assert!(!s.user_code.is_empty() && !s.username.is_empty());
    }
    if let Some(c) = UserCode::parse(&String::from_utf8_lossy(data)) {
        assert_eq!(c.as_str().len(), 8);
        assert!(c.as_str().bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
    }
}

/// The token exchange request parser (RFC 8693 §2.1) and the grant on arbitrary forms and
/// `Authorization` headers: never a panic; errors carry a registered code and status; a parsed
/// request always has a subject token of a supported type.
pub fn oauth_token_exchange(data: &[u8]) {
    let (auth, body) = header_and_body(data);
    let Ok(req) = TokenRequest::from_form(body, auth, &Limits::default()) else {
        return;
    };
    if let Ok(r) = TokenExchangeRequest::from_params(&req.params, &Limits::default()) {
        assert!(!r.subject.token.is_empty());
    }
    if let Err(e) = block_on(exchange_provider().token.handle(&req)) {
        assert!(!e.code().is_empty());
        assert!((400..=503).contains(&e.status()));
    }
}

/// Client registration rules (issue 18): arbitrary redirect URIs and grant types never panic
/// `Client::validate`, and a client it accepts has no script-capable, non-navigable or
/// fragment-carrying redirect URI, `http` only for loopback hosts and a private-use scheme only
/// when public. The `Authorization` header parser of `/userinfo` (RFC 6750 §2.1) never panics
/// and yields only `b64token` tokens.
pub fn oauth_client_registration(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let public = lines.next().is_some_and(|l| l.starts_with('p'));
    let (mut uris, mut grants) = (Vec::new(), Vec::new());
    for l in lines {
        match l.strip_prefix("g=") {
            Some(g) => grants.push(g.to_owned()),
            None => uris.push(l.to_owned()),
        }
    }
    let mut client = if public {
        Client::public("c")
    } else {
        Client::confidential("c", "s")
    };
    if !grants.is_empty() {
        client = client.with_grant_types(grants);
    }
    for u in &uris {
        client = client.with_redirect_uri(u.clone());
    }
    if client.validate().is_ok() {
        for u in &uris {
            let lower = u.to_ascii_lowercase();
            let scheme = lower.split(':').next().unwrap_or("");
            assert!(!u.contains('#'), "{u}");
            assert!(
                !["javascript", "data", "vbscript", "file", "blob", "about"].contains(&scheme),
                "{u}"
            );
            if scheme == "http" {
                let host = lower[7..].split(['/', '?']).next().unwrap_or("");
                assert!(
                    host.starts_with("127.")
                        || host.starts_with("[::1]")
                        || host.starts_with("localhost"),
                    "{u}"
                );
            }
            if scheme != "http" && scheme != "https" {
                assert!(public, "{u}");
            }
        }
    }
    if let BearerCredentials::Token(t) = parse_bearer(&text) {
        assert!(!t.is_empty());
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)));
    }
}

/// The end-session endpoint's request parser (RP-Initiated Logout 1.0 §2): arbitrary query
/// bytes (`id_token_hint`, `client_id`, `post_logout_redirect_uri`, `state`, `ui_locales`,
/// `logout_hint`) against a browser with a live session. Never panics; errors carry a
/// registered code and a 4xx status; a redirect only ever goes to a registered
/// `post_logout_redirect_uri`; a confirmation request survives a serde round trip.
pub fn oauth_end_session(data: &[u8]) {
    let p = end_session_provider();
    let Ok(params) = Params::parse(data, &p.ctx.config.limits) else {
        return;
    };
    let login = Login::new("alice", NOW, vec!["pwd".into()]);
    let sid = block_on(p.sessions.login(login, None))
        .expect("login")
        .session
        .sid;
    match block_on(p.end_session.start(&params, Some(&sid))) {
        LogoutStep::ShowError(e) => {
            assert!(!e.code().is_empty());
            assert!((400..500).contains(&e.status()), "{e:?}");
        }
        LogoutStep::LoggedOut(out) => {
            if let Some(to) = &out.redirect {
                assert!(
                    to == BYE || to.starts_with(&format!("{BYE}?state=")),
                    "{to}"
                );
            }
        }
        LogoutStep::Confirm { request } => {
            let json = serde_json::to_string(&*request).expect("serialize");
            let back: EndSessionRequest = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, *request);
        }
        LogoutStep::Cancelled { .. } => panic!("start never cancels"),
    }
    // Leave no session behind.
    let _ = block_on(p.sessions.end(&sid));
}
