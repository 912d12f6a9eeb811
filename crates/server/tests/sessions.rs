//! Sessions and logout through the router, in process: the session cookie, single sign-on into
//! a second client without a login form, `prompt=none`, `sid` in ID tokens, `{issuer}/logout`
//! (front-channel iframes, redirect, confirmation) and a back-channel Logout Token POSTed to a
//! local listener.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use axum::Router;
use common::{basic, enc, get, hidden, param, post_form, Resp, CHALLENGE, VERIFIER};
use idforge_server::ServeConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CB: &str = "http://127.0.0.1:3000/callback";
const ISSUER: &str = "http://op.example";

fn config(backchannel: &str) -> String {
    format!(
        r#"
[sessions]
idle_timeout_minutes = 30
remember_me_timeout_minutes = 1440
absolute_lifetime_minutes = 600
preserve_on_password_update = false

[[clients]]
client_id = "one"
client_secret = "one-secret"
redirect_uris = ["{CB}"]
post_logout_redirect_uris = ["http://127.0.0.1:3000/bye"]
frontchannel_logout_uri = "http://127.0.0.1:3000/fc"
frontchannel_logout_session_required = true
backchannel_logout_uri = "{backchannel}"
backchannel_logout_session_required = true

[[clients]]
client_id = "two"
client_secret = "two-secret"
redirect_uris = ["{CB}"]
frontchannel_logout_uri = "http://127.0.0.1:4000/fc?tenant=a"

[[users]]
username = "alice"
password = "alice-password"
"#
    )
}

fn app(backchannel: &str) -> Router {
    let config = ServeConfig::from_toml(&config(backchannel)).unwrap();
    let idp = idforge_server::build(&config, ISSUER).unwrap();
    idforge_server::router(&idp)
}

fn authorize_uri(client_id: &str, extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=st&nonce=nn&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(CB)
    )
}

async fn get_with(app: &Router, uri: &str, cookie: &str) -> Resp {
    common::call(app, "GET", uri, &[("cookie", cookie)], "").await
}

/// Signs in as alice at `client`'s authorization request; the response and the cookie.
async fn sign_in(app: &Router, client: &str, remember: bool) -> (Resp, String) {
    let page = get(app, &authorize_uri(client, "")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"remember_me\""), "{}", page.body);
    let mut body = format!(
        "request={}&username=alice&password=alice-password",
        enc(&hidden(&page.body, "request"))
    );
    if remember {
        body.push_str("&remember_me=on");
    }
    let resp = post_form(app, "/authorize", &[], &body).await;
    let set = resp.headers.get("set-cookie").cloned().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    (resp, set + "\n" + &cookie)
}

async fn id_token(app: &Router, client: &str, location: &str) -> serde_json::Value {
    let code = param(location, "code").unwrap();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(CB)
    );
    let auth = basic(client, &format!("{client}-secret"));
    let r = post_form(app, "/token", &[("authorization", &auth)], &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["id_token"].as_str().unwrap().to_owned().into()
}

fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&idforge_jose::b64::decode(payload, "p").unwrap()).unwrap()
}

/// A one-shot HTTP listener returning the request it got.
async fn backchannel_listener() -> (String, tokio::task::JoinHandle<String>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", l.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = s.read(&mut buf).await.unwrap();
            req.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&req).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                if body.len() >= len {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        String::from_utf8(req).unwrap()
    });
    (url, task)
}

#[tokio::test]
async fn sso_then_rp_initiated_logout_with_front_and_back_channel() {
    let (bc_url, bc) = backchannel_listener().await;
    let app = app(&bc_url);
    let (resp, cookie) = sign_in(&app, "one", true).await;
    let (set, cookie) = cookie.split_once('\n').unwrap();
    assert!(set.contains("; HttpOnly; SameSite=Lax"), "{set}");
    assert!(set.contains("; Path=/"), "{set}");
    assert!(!set.contains("Secure"), "http issuer: no Secure");
    // Remember me: persistent, for the remember-me window capped by the absolute lifetime.
    assert!(set.ends_with("Max-Age=36000"), "{set}");
    let one = id_token(&app, "one", resp.location()).await;
    let sid = claims(one.as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(sid.len() >= 22);

    // Single sign-on into the second client: no login form.
    let r = get_with(&app, &authorize_uri("two", ""), cookie).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let two = id_token(&app, "two", r.location()).await;
    assert_eq!(claims(two.as_str().unwrap())["sid"], sid.as_str());
    // prompt=none succeeds silently with the cookie, answers login_required without it.
    let r = get_with(&app, &authorize_uri("two", "&prompt=none"), cookie).await;
    assert!(param(r.location(), "code").is_some());
    let r = get(&app, &authorize_uri("two", "&prompt=none")).await;
    assert_eq!(
        param(r.location(), "error").as_deref(),
        Some("login_required")
    );

    // RP-initiated logout, as openid-client's buildEndSessionUrl sends it.
    let uri = format!(
        "/logout?id_token_hint={}&client_id=one&post_logout_redirect_uri={}&state=bye1",
        one.as_str().unwrap(),
        enc("http://127.0.0.1:3000/bye")
    );
    let r = get_with(&app, &uri, cookie).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let fc_one = format!(
        "http://127.0.0.1:3000/fc?iss={}&amp;sid={}",
        enc(ISSUER),
        enc(&sid)
    );
    assert!(
        r.body.contains(&format!("<iframe src=\"{fc_one}\"")),
        "{}",
        r.body
    );
    assert!(r
        .body
        .contains("<iframe src=\"http://127.0.0.1:4000/fc?tenant=a\""));
    assert!(r.body.contains(
        "<meta http-equiv=\"refresh\" content=\"2;url=http://127.0.0.1:3000/bye?state=bye1\">"
    ));
    assert!(r
        .body
        .contains("<a href=\"http://127.0.0.1:3000/bye?state=bye1\">"));
    assert!(r.headers["set-cookie"].contains("Max-Age=0"));
    // The back-channel Logout Token reaches the RP as a form POST.
    let req = tokio::time::timeout(std::time::Duration::from_secs(10), bc)
        .await
        .unwrap()
        .unwrap();
    assert!(req.starts_with("POST /backchannel HTTP/1.1"), "{req}");
    assert!(req.contains("Content-Type: application/x-www-form-urlencoded"));
    let token = req.split_once("logout_token=").unwrap().1;
    let lt = claims(token);
    assert_eq!(lt["sid"], sid.as_str());
    assert_eq!(lt["aud"], "one");
    assert!(lt.get("nonce").is_none());
    // The session is over: the cookie no longer signs in.
    let r = get_with(&app, &authorize_uri("two", ""), cookie).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("name=\"password\""));
}

#[tokio::test]
async fn logout_without_a_hint_asks_and_checks_the_redirect() {
    let app = app("http://127.0.0.1:9/unused");
    let (_, cookie) = sign_in(&app, "two", false).await;
    let (set, cookie) = cookie.split_once('\n').unwrap();
    assert!(!set.contains("Max-Age"), "a browser-session cookie: {set}");
    // An unregistered post_logout_redirect_uri: an error page, never a redirect.
    let r = get_with(
        &app,
        &format!(
            "/logout?client_id=one&post_logout_redirect_uri={}",
            enc("http://evil.example/")
        ),
        cookie,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Not tied to the session: confirmation.
    let r = get_with(&app, "/logout", cookie).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("name=\"decision\" value=\"approve\""));
    assert!(r.body.contains("name=\"decision\" value=\"deny\""));
    let sealed = hidden(&r.body, "logout");
    let deny = format!("logout={}&decision=deny", enc(&sealed));
    let r = post_form(&app, "/logout", &[("cookie", cookie)], &deny).await;
    assert!(r.body.contains("still signed in"), "{}", r.body);
    let r = get_with(&app, &authorize_uri("two", "&prompt=none"), cookie).await;
    assert!(param(r.location(), "code").is_some(), "still signed in");
    let approve = format!("logout={}&decision=approve", enc(&sealed));
    let r = post_form(&app, "/logout", &[("cookie", cookie)], &approve).await;
    assert!(r.body.contains("You are signed out"), "{}", r.body);
    // An altered form is refused.
    let r = post_form(
        &app,
        "/logout",
        &[("cookie", cookie)],
        "logout=abc.def&decision=approve",
    )
    .await;
    assert_eq!(r.status, 400);
    let r = get_with(&app, &authorize_uri("two", "&prompt=none"), cookie).await;
    assert_eq!(
        param(r.location(), "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn discovery_and_config() {
    let app = app("http://127.0.0.1:9/unused");
    let d = get(&app, "/.well-known/openid-configuration").await.json();
    assert_eq!(d["end_session_endpoint"], format!("{ISSUER}/logout"));
    assert_eq!(d["frontchannel_logout_supported"], true);
    assert_eq!(d["backchannel_logout_session_supported"], true);
    // Unknown keys and unusable values are refused at load.
    assert!(ServeConfig::from_toml("[sessions]\nidle_minutes = 3").is_err());
    assert!(ServeConfig::from_toml("[sessions]\nidle_timeout_minutes = 0").is_err());
    assert!(ServeConfig::from_toml(
        "[[clients]]\nclient_id = \"x\"\nclient_secret = \"s\"\nfrontchannel_logout_uri = \"http://rp/fc#f\""
    )
    .map(|c| idforge_server::build(&c, ISSUER).is_err())
    .unwrap_or(true));
    // An https issuer gets Secure cookies.
    let config = ServeConfig::from_toml(&config("http://127.0.0.1:9/x"))
        .unwrap()
        .with_issuer("https://op.example");
    let app = idforge_server::router(&idforge_server::build(&config, ISSUER).unwrap());
    let (_, cookie) = sign_in(&app, "two", false).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
}
