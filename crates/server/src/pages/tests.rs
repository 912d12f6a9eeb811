//! The pages' rendering: escaping, the policy's hashes against the body, languages, error
//! words, host templates and branding.

use axum::body::to_bytes;
use axum::http::HeaderMap;
use axum::response::Response;

use super::*;
use crate::config::ClientConfig;

async fn text(r: Response) -> (u16, HeaderMap, String) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = to_bytes(r.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

const HOSTILE: &str = "<script>alert('x')</script>\"&";

fn built_in() -> Arc<Pages> {
    Pages::built_in()
}

fn between<'a>(body: &'a str, open: &str, close: &str) -> &'a str {
    let start = body.find(open).unwrap() + open.len();
    let len = body[start..].find(close).unwrap();
    &body[start..start + len]
}

#[test]
fn escape_covers_the_five_characters() {
    assert_eq!(
        escape(HOSTILE),
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"
    );
}

#[tokio::test]
async fn every_value_is_escaped_on_every_page() {
    let p = built_in();
    let hostile = [HOSTILE.to_owned()];
    let who = Audience::default().client(HOSTILE);
    let details = serde_json::json!([{ "type": HOSTILE, HOSTILE: HOSTILE }]);
    let pages = [
        p.login(
            &who,
            &Login {
                action: HOSTILE,
                scopes: &hostile,
                sealed: HOSTILE,
                login_hint: HOSTILE,
                error: Some(LoginNotice::WrongCredentials),
                cancel: true,
            },
        ),
        p.consent(
            &who,
            &Consent {
                action: HOSTILE,
                subject: HOSTILE,
                scopes: &hostile,
                claims: &hostile,
                details: Some(&details),
                sealed: HOSTILE,
            },
        ),
        p.error(&who, 400, HOSTILE, HOSTILE),
        p.device(
            &who,
            &DevicePage {
                action: HOSTILE,
                user_code: HOSTILE,
                prompt: Some((HOSTILE, HOSTILE, &hostile)),
                error: Some((400, HOSTILE, HOSTILE)),
            },
        ),
        p.device_done(
            &who,
            &DeviceDone {
                approved: true,
                client_id: HOSTILE,
            },
        ),
        p.ciba_approval(
            &who,
            HOSTILE,
            HOSTILE,
            HOSTILE,
            Some(HOSTILE),
            Some(HOSTILE),
            &hostile,
            Some(&details),
            &hostile,
        ),
        p.ciba_done(&who, HOSTILE),
        p.logout_confirm(&who, HOSTILE, HOSTILE),
        p.logged_out(&who, &[(HOSTILE, HOSTILE)], Some(HOSTILE), 2),
        p.form_post(&who, HOSTILE, &[(HOSTILE.to_owned(), HOSTILE.to_owned())]),
    ];
    for r in pages {
        let (_, _, body) = text(r).await;
        let without_form_post_script =
            body.replace(&format!("<script>{FORM_POST_SCRIPT}</script>"), "");
        assert!(
            !without_form_post_script.contains("<script") && !body.contains("'x'"),
            "{body}"
        );
        // Every page shows the values (the CIBA result only words for its state).
        assert!(
            body.contains(&escape(HOSTILE)) || body.contains("<h1>Request answered</h1>"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_policy_hashes_match_the_inline_style_and_script() {
    let p = built_in();
    let (status, headers, body) = text(p.form_post(
        &Audience::default(),
        "https://rp.example/cb",
        &[("code".into(), "abc".into())],
    ))
    .await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    let style = between(&body, "<style>", "</style>");
    let script = between(&body, "<script>", "</script>");
    assert!(
        csp.contains(&format!("style-src {};", csp::hash(style))),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("script-src {};", csp::hash(script))),
        "{csp}"
    );
    assert!(body.contains("action=\"https://rp.example/cb\""));
    assert!(body.contains("name=\"code\" value=\"abc\""));
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    // Other pages run no script at all.
    let (_, headers, body) = text(p.logout_confirm(&Audience::default(), "/logout", "s")).await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        !csp.contains("script-src") && !body.contains("<script"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn the_logged_out_page_may_frame_exactly_the_front_channel_origins() {
    let p = built_in();
    let (_, headers, body) = text(p.logged_out(
        &Audience::default(),
        &[("https://rp.example/fc?sid=1", "rp")],
        None,
        2,
    ))
    .await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-src https://rp.example;"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(body.contains("<iframe src=\"https://rp.example/fc?sid=1\""));
    assert!(
        !body.contains("http-equiv=\"refresh\""),
        "no redirect, no refresh"
    );
}

#[tokio::test]
async fn languages_follow_ui_locales_then_accept_language() {
    let p = built_in();
    let mut headers = HeaderMap::new();
    headers.insert(
        "accept-language",
        "fr-CH, fr;q=0.9, en;q=0.8".parse().unwrap(),
    );
    let page = Login {
        action: "/authorize",
        scopes: &["openid".to_owned()],
        sealed: "s",
        login_hint: "",
        error: None,
        cancel: true,
    };
    let (_, _, body) = text(p.login(&Audience::from_headers(&headers), &page)).await;
    assert!(body.contains("<html lang=\"fr\">"));
    assert!(body.contains("Se connecter") && body.contains("savoir qui vous êtes"));
    let en = ["en".to_owned()];
    let who = Audience::from_headers(&headers).ui_locales(&en);
    let (_, _, body) = text(p.login(&who, &page)).await;
    assert!(body.contains("<html lang=\"en\">") && body.contains(">Sign in<"));
}

#[tokio::test]
async fn errors_explain_and_hide_server_details() {
    let p = built_in();
    let (status, _, body) = text(p.error(
        &Audience::default(),
        400,
        "invalid_client",
        "unknown client",
    ))
    .await;
    assert_eq!(status, 400);
    assert!(
        body.contains("<h1>This application is not recognized</h1>"),
        "{body}"
    );
    assert!(body.contains("contact its support"));
    let (before, details) = body.split_once("<details>").unwrap();
    assert!(
        !before.contains("invalid_client")
            && details.contains("<code>invalid_client</code>: unknown client")
    );

    let (status, _, body) = text(p.error(
        &Audience::default(),
        500,
        "server_error",
        "database at 10.0.0.3 refused",
    ))
    .await;
    assert_eq!(status, 500);
    assert!(!body.contains("10.0.0.3"), "{body}");
    assert!(body.contains("The service had a problem"));
}

#[tokio::test]
async fn consent_words_scopes_claims_and_authorization_details() {
    let p = built_in();
    let details = serde_json::json!([{
        "type": "openid_credential",
        "credential_configuration_id": "UniversityDegree"
    }]);
    let (_, _, body) = text(p.consent(
        &Audience::default().client("wallet"),
        &Consent {
            action: "/authorize",
            subject: "alice",
            scopes: &["openid".to_owned(), "email".to_owned(), "custom".to_owned()],
            claims: &["given_name".to_owned(), "shoe_size".to_owned()],
            details: Some(&details),
            sealed: "s",
        },
    ))
    .await;
    assert!(body.contains("<b>wallet</b>"));
    assert!(
        body.contains("<li><code>email</code>: see your email address</li>"),
        "{body}"
    );
    assert!(body.contains("<li><code>custom</code></li>"), "{body}");
    assert!(body.contains("<li>your first name</li>") && body.contains("<li>shoe_size</li>"));
    assert!(
        body.contains("<h3>A digital credential to store in your wallet</h3>"),
        "{body}"
    );
    assert!(
        body.contains("<dt>Credential</dt><dd>UniversityDegree</dd>"),
        "{body}"
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("idforge-pages-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn a_host_template_replaces_the_built_in_one_and_branding_applies() {
    let dir = temp_dir("override");
    std::fs::write(
        dir.join("logout_cancelled.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>Still here, {{ brand.name }}</h1>{% endblock %}",
    )
    .unwrap();
    let mut config = ServeConfig {
        pages: PagesConfig::new().with_templates_dir(&dir),
        branding: BrandingConfig::new()
            .with_name("Acme")
            .with_logo_url("https://cdn.acme.example/logo.svg"),
        ..ServeConfig::default()
    };
    let mut app = ClientConfig::new("app");
    app.branding = BrandingConfig::new().with_primary_color("#8a1538");
    config.clients = vec![app];
    let p = Pages::from_config(&config).unwrap();
    let (_, headers, body) = text(p.logout_cancelled(&Audience::default())).await;
    assert!(body.contains("<h1>Still here, Acme</h1>"), "{body}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("img-src https://cdn.acme.example/logo.svg;"),
        "{csp}"
    );
    let (_, _, body) = text(p.logout_confirm(&Audience::default().client("app"), "/l", "s")).await;
    assert!(
        body.contains("--primary:#8a1538;--on-primary:#ffffff"),
        "{body}"
    );
    assert!(body
        .contains("<img class=\"logo\" src=\"https://cdn.acme.example/logo.svg\" alt=\"Acme\">"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broken_host_template_is_refused_at_load() {
    for (name, source) in [
        (
            "login.html",
            "{% extends \"base.html\" %}{% block content %}{% if %}{% endblock %}",
        ),
        ("consent.html", "{{ scopes | no_such_filter }}"),
        ("error.html", "{% include \"missing.html\" %}"),
    ] {
        let dir = temp_dir("broken");
        std::fs::write(dir.join(name), source).unwrap();
        let config = ServeConfig {
            pages: PagesConfig::new().with_templates_dir(&dir),
            ..ServeConfig::default()
        };
        let err = Pages::from_config(&config).unwrap_err();
        assert!(err.to_string().contains(name), "{name}: {err}");
        assert!(config.validate().is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let config = ServeConfig {
        pages: PagesConfig::new().with_templates_dir("/nonexistent/idforge-templates"),
        ..ServeConfig::default()
    };
    assert!(Pages::from_config(&config).is_err());
}

#[test]
fn the_config_tables_parse_from_toml() {
    let config = ServeConfig::from_toml(
        r##"
[branding]
name = "Acme"
primary_color = "#123456"
footer_links = [{ label = "Privacy", url = "https://acme.example/privacy" }]

[[clients]]
client_id = "app"
redirect_uris = ["https://app.example/cb"]
[clients.branding]
name = "App"
"##,
    );
    let config = config.unwrap();
    assert_eq!(config.branding.name.as_deref(), Some("Acme"));
    assert_eq!(config.clients[0].branding.name.as_deref(), Some("App"));
    assert!(ServeConfig::from_toml("[branding]\nprimary_color = \"blue\"\n").is_err());
    assert!(ServeConfig::from_toml("[branding]\nunknown = 1\n").is_err());
}
