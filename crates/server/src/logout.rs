//! `{issuer}/logout`: OpenID Connect RP-Initiated Logout 1.0 (GET or POST), rendering the
//! Front-Channel Logout 1.0 iframes, then redirecting to the validated
//! `post_logout_redirect_uri` with `<meta http-equiv="refresh">` and a link; a confirmation
//! page (buttons named `decision`, values `approve` / `deny`) when the request is not tied to
//! the browser's session. Back-Channel Logout 1.0 Logout Tokens are POSTed
//! (`application/x-www-form-urlencoded`, `logout_token=...`) in the background, with a timeout
//! and bounded retries.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use idforge_oauth_core::endpoint::end_session::{EndSessionRequest, LogoutDecision, LogoutStep};
use idforge_oauth_core::ports::LogoutNotifier;
use idforge_oauth_core::{BackChannelLogout, DeliveryResult, LoggedOut, Params};

use crate::oauth::OAuth;
use crate::pages::Audience;
use crate::seal::{Purpose, Sealer};

/// Attempts per Logout Token (each bounded by `[outbound] timeout_seconds`: connect, TLS,
/// send, status line) (first try included); retried only while retryable.
const DELIVERY_ATTEMPTS: u32 = 3;
/// Seconds the logged-out page waits for the front-channel iframes before redirecting.
const FRONTCHANNEL_WAIT_SECONDS: u32 = 2;

/// The logout routes (GET and POST at the end-session path), state applied by the caller.
pub(crate) fn routes(state: &OAuth) -> Router<Arc<OAuth>> {
    match &state.provider.ctx.config.end_session_path {
        Some(path) => Router::new().route(path, get(logout_get).post(logout_post)),
        None => Router::new(),
    }
}

async fn logout_get(
    State(state): State<Arc<OAuth>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match Params::parse(
        query.unwrap_or_default().as_bytes(),
        &state.provider.ctx.config.limits,
    ) {
        Ok(p) => p,
        Err(e) => return error_page(&state, &headers, e.status(), e.code(), e.description()),
    };
    let sid = state.sessions.sid(&headers, now(&state));
    let step = state
        .provider
        .end_session
        .start(&params, sid.as_deref())
        .await;
    render(&state, &headers, step)
}

/// POST: the confirmation form (`logout` sealed, `decision`), or a logout request sent as a
/// form (RP-Initiated Logout 1.0 §2 allows GET and POST).
async fn logout_post(State(state): State<Arc<OAuth>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match Params::parse(&body, &state.provider.ctx.config.limits) {
        Ok(p) => p,
        Err(e) => return error_page(&state, &headers, e.status(), e.code(), e.description()),
    };
    let sid = state.sessions.sid(&headers, now(&state));
    let es = &state.provider.end_session;
    let step = match params.get("logout") {
        Some(sealed) if Sealer::looks_sealed(sealed) => {
            let Some(request) =
                state
                    .logout_sealer
                    .open::<EndSessionRequest>(Purpose::Logout, sealed, now(&state))
            else {
                return error_page(
                    &state,
                    &headers,
                    400,
                    "invalid_request",
                    "the logout form was altered or expired",
                );
            };
            // Anything but an explicit approval keeps the session.
            let decision = if params.get("decision") == Some("approve") {
                LogoutDecision::Approve
            } else {
                LogoutDecision::Deny
            };
            es.confirm(request, decision, sid.as_deref()).await
        }
        _ => es.start(&params, sid.as_deref()).await,
    };
    render(&state, &headers, step)
}

fn error_page(
    state: &OAuth,
    headers: &HeaderMap,
    status: u16,
    code: &str,
    description: &str,
) -> Response {
    state
        .pages
        .error(&Audience::from_headers(headers), status, code, description)
}

fn now(state: &OAuth) -> i64 {
    state.provider.ctx.clock.now()
}

fn render(state: &OAuth, headers: &HeaderMap, step: LogoutStep) -> Response {
    let who = Audience::from_headers(headers);
    match step {
        LogoutStep::Confirm { request } => {
            match state
                .logout_sealer
                .seal(Purpose::Logout, &*request, now(state))
            {
                Some(sealed) => state
                    .pages
                    .logout_confirm(&who, &state.logout_action, &sealed),
                None => error_page(state, headers, 500, "server_error", ""),
            }
        }
        LogoutStep::LoggedOut(out) => {
            let out = *out;
            if let Some(ended) = &out.ended {
                deliver_in_background(&state.outbound, ended.backchannel.clone());
            }
            let mut resp = logged_out_page(state, &who, &out);
            if let Some(clear) = state.sessions.clear() {
                resp.headers_mut().append(SET_COOKIE, clear);
            }
            resp
        }
        LogoutStep::Cancelled { .. } => state.pages.logout_cancelled(&who),
        LogoutStep::ShowError(e) => {
            error_page(state, headers, e.status(), e.code(), e.description())
        }
    }
}

/// The logged-out page: one hidden iframe per front-channel logout URI (Front-Channel Logout
/// 1.0 §4), then the redirect (meta refresh, and a link for browsers that ignore it), in the
/// language of the logout request's `ui_locales` (RP-Initiated Logout 1.0 §2).
fn logged_out_page(state: &OAuth, who: &Audience<'_>, out: &LoggedOut) -> Response {
    let frames: Vec<(&str, &str)> = out
        .ended
        .iter()
        .flat_map(|e| &e.frontchannel)
        .map(|f| (f.uri.as_str(), f.client_id.as_str()))
        .collect();
    let wait = if frames.is_empty() {
        0
    } else {
        FRONTCHANNEL_WAIT_SECONDS
    };
    let who = who.ui_locales(&out.ui_locales);
    state
        .pages
        .logged_out(&who, &frames, out.redirect.as_deref(), wait)
}

/// Delivers Logout Tokens over HTTP(S): one POST per call, bounded by the client's timeout.
#[derive(Debug, Clone)]
pub(crate) struct HttpLogoutNotifier(pub(crate) crate::outbound::Outbound);

#[async_trait]
impl LogoutNotifier for HttpLogoutNotifier {
    async fn deliver(&self, message: &BackChannelLogout) -> DeliveryResult {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("logout_token", &message.logout_token)
            .finish();
        let sent = tokio::time::timeout(self.0.timeout(), post_form(&self.0, &message.uri, &body));
        match sent.await {
            // Back-Channel Logout 1.0 §2.8: 200 (204 accepted too) is success; 400 and other
            // client errors are refusals; anything else may pass on a retry.
            Ok(Ok(status)) if (200..300).contains(&status) => DeliveryResult::Delivered,
            Ok(Ok(status)) if (400..500).contains(&status) => DeliveryResult::Rejected { status },
            Ok(Ok(status)) => DeliveryResult::Failed {
                reason: format!("status {status}"),
            },
            Ok(Err(e)) => DeliveryResult::Failed {
                reason: e.to_string(),
            },
            Err(_) => DeliveryResult::Failed {
                reason: "timed out".into(),
            },
        }
    }
}

/// Delivers `message` with up to [`DELIVERY_ATTEMPTS`] attempts while the failure is
/// retryable, backing off 250 ms, 500 ms; returns the last result and the attempts made.
pub(crate) async fn deliver_with_retries(
    notifier: &dyn LogoutNotifier,
    message: &BackChannelLogout,
) -> (DeliveryResult, u32) {
    let mut attempt = 1;
    loop {
        let result = notifier.deliver(message).await;
        if !result.is_retryable() || attempt >= DELIVERY_ATTEMPTS {
            return (result, attempt);
        }
        tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
        attempt += 1;
    }
}

/// Sends every Logout Token from a background task (the browser does not wait), logging
/// failures on stderr (client id and reason, never the token).
pub(crate) fn deliver_in_background(
    outbound: &crate::outbound::Outbound,
    messages: Vec<BackChannelLogout>,
) {
    for m in messages {
        let notifier = HttpLogoutNotifier(outbound.clone());
        tokio::spawn(async move {
            let (result, attempts) = deliver_with_retries(&notifier, &m).await;
            if result != DeliveryResult::Delivered {
                eprintln!(
                    "back-channel logout to {} failed after {attempts} attempt(s): {result:?}",
                    m.client_id
                );
            }
        });
    }
}

/// POSTs the form body (Back-Channel Logout 1.0 §2.5) to an `http(s)://` URL; the status.
async fn post_form(
    outbound: &crate::outbound::Outbound,
    url: &str,
    body: &str,
) -> Result<u16, crate::outbound::OutboundError> {
    outbound
        .post(
            url,
            crate::outbound::Post {
                content_type: "application/x-www-form-urlencoded",
                bearer: None,
                body,
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A listener answering each connection with `statuses[i]`, returning the request bodies.
    async fn listener(statuses: Vec<u16>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/bc?x=1", l.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            for status in statuses {
                let (mut s, _) = l.accept().await.unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let n = s.read(&mut buf).await.unwrap();
                    req.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&req);
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        if body.len() >= len {
                            seen.push(text.into_owned());
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                let resp = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
                s.write_all(resp.as_bytes()).await.unwrap();
            }
            seen
        });
        (url, task)
    }

    fn message(uri: &str) -> BackChannelLogout {
        serde_json::from_value(serde_json::json!({
            "client_id": "rp", "uri": uri, "logout_token": "a.b+c"
        }))
        .unwrap()
    }

    fn notifier(config: &crate::outbound::OutboundConfig) -> HttpLogoutNotifier {
        HttpLogoutNotifier(crate::outbound::Outbound::new(config).unwrap())
    }

    #[tokio::test]
    async fn posts_the_form_and_retries_a_bounded_number_of_times() {
        let notifier = &notifier(&Default::default());
        let (url, task) = listener(vec![503, 500, 200]).await;
        let (result, attempts) = deliver_with_retries(notifier, &message(&url)).await;
        assert_eq!((result, attempts), (DeliveryResult::Delivered, 3));
        let seen = task.await.unwrap();
        assert!(
            seen[0].starts_with("POST /bc?x=1 HTTP/1.1\r\n"),
            "{}",
            seen[0]
        );
        assert!(seen[0].contains("Content-Type: application/x-www-form-urlencoded"));
        assert!(seen[0].ends_with("\r\n\r\nlogout_token=a.b%2Bc"));

        // A refusal is not retried; an unreachable RP stops after the bound.
        let (url, task) = listener(vec![400]).await;
        let (result, attempts) = deliver_with_retries(notifier, &message(&url)).await;
        assert_eq!(
            (result, attempts),
            (DeliveryResult::Rejected { status: 400 }, 1)
        );
        task.await.unwrap();
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/bc", closed.local_addr().unwrap());
        drop(closed);
        let (result, attempts) = deliver_with_retries(notifier, &message(&url)).await;
        assert!(result.is_retryable());
        assert_eq!(attempts, DELIVERY_ATTEMPTS);
    }

    /// Back-Channel Logout 1.0 §2.5 over TLS: delivered to an https RP whose CA is `[outbound]
    /// ca_file`; an unknown CA or a certificate for another host is a retryable failure whose
    /// reason says why (and never contains the Logout Token).
    #[tokio::test]
    async fn logout_tokens_reach_https_rps_whose_certificate_verifies() {
        use crate::outbound::test_tls::{serve, Ca};
        let ca = Ca::new("relying parties");
        let ca_file = ca.pem_file();
        let trusting = notifier(&crate::outbound::OutboundConfig::new().with_ca_file(&ca_file));
        let (cert, key) = ca.leaf(&["localhost"], &["127.0.0.1"]);
        let (port, mut seen) = serve(cert, key, 200).await;
        let url = format!("https://127.0.0.1:{port}/bc?x=1");
        let (result, attempts) = deliver_with_retries(&trusting, &message(&url)).await;
        assert_eq!((result, attempts), (DeliveryResult::Delivered, 1));
        let req = seen.recv().await.unwrap();
        assert!(req.starts_with("POST /bc?x=1\r\n"), "{req}");
        assert!(req.contains("content-type: application/x-www-form-urlencoded\r\n"));
        assert!(req.ends_with("\r\n\r\nlogout_token=a.b%2Bc"), "{req}");

        let untrusting = notifier(&Default::default());
        let (result, attempts) = deliver_with_retries(&untrusting, &message(&url)).await;
        assert_eq!(attempts, DELIVERY_ATTEMPTS);
        let DeliveryResult::Failed { reason } = result else {
            panic!("{result:?}");
        };
        assert!(reason.contains("certificate verify failed"), "{reason}");

        let (cert, key) = ca.leaf(&["rp.example"], &[]);
        let (other, _) = serve(cert, key, 200).await;
        let url = format!("https://127.0.0.1:{other}/bc");
        let (result, attempts) = deliver_with_retries(&trusting, &message(&url)).await;
        assert_eq!(attempts, DELIVERY_ATTEMPTS);
        let DeliveryResult::Failed { reason } = result else {
            panic!("{result:?}");
        };
        assert!(reason.contains("IP address mismatch"), "{reason}");
        assert!(!reason.contains("a.b"), "{reason}");
        assert!(seen.try_recv().is_err());
        let _ = std::fs::remove_file(ca_file);
    }

    #[tokio::test]
    async fn pages_escape_and_redirect() {
        let r = crate::pages::Pages::built_in().logout_confirm(
            &Audience::default(),
            "/logout",
            "\"><script>",
        );
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(!body.contains("<script>"));
        assert!(body.contains("name=\"decision\" value=\"approve\""));
        assert!(body.contains("name=\"decision\" value=\"deny\""));
    }
}
