//! oauth-core's [`HttpEndpoints`] for the issuer: metadata, JWT VC issuer metadata, offers by
//! reference, nonce, credential, deferred credential, notification and status list tokens.

use http::{header, Method, Request, Response, StatusCode};
use idforge_oauth_core::http::{error_response, json_response, HttpEndpoints};
use idforge_oauth_core::Error;

use crate::issuer::{CredentialIssuer, CredentialReply};
use crate::metadata::{issuer_path, jwt_vc_issuer_path, well_known_path};
use crate::status_list::STATUS_LIST_MEDIA_TYPE;

fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

fn err(e: &Error) -> Response<Vec<u8>> {
    error_response(e, false)
}

fn reply(r: Result<CredentialReply, Error>) -> Response<Vec<u8>> {
    match r {
        Ok(CredentialReply::Json(r)) => json_response(r.status(), &r.to_json()),
        Ok(CredentialReply::Encrypted { status, jwe }) => {
            respond(status, "application/jwt", jwe.into_bytes())
        }
        Err(e) => err(&e),
    }
}

fn method_not_allowed() -> Response<Vec<u8>> {
    err(&Error::InvalidRequest("method not allowed".into()))
}

#[async_trait::async_trait]
impl HttpEndpoints for CredentialIssuer {
    async fn handle_http(
        &self,
        req: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, Request<Vec<u8>>> {
        let issuer = self.ctx.config.issuer.clone();
        let base = issuer_path(&issuer).to_owned();
        let s = &self.core.settings;
        let path = req.uri().path().to_owned();
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let is_post = req.method() == Method::POST;
        let is_get = req.method() == Method::GET;
        let sub = |p: &str| path.strip_prefix(&format!("{base}{p}/")).map(str::to_owned);
        if path == well_known_path(&issuer) {
            if !is_get {
                return Ok(method_not_allowed());
            }
            let wants_jwt = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| {
                    a.split(',')
                        .any(|t| t.trim().starts_with("application/jwt"))
                });
            return Ok(if wants_jwt {
                match self.signed_metadata().await {
                    Ok(j) => respond(200, "application/jwt", j.into_bytes()),
                    Err(e) => err(&e),
                }
            } else {
                match self.metadata().await {
                    Ok(v) => json_response(200, &v),
                    Err(e) => err(&e),
                }
            });
        }
        if path == jwt_vc_issuer_path(&issuer) {
            return Ok(match self.jwt_vc_issuer_metadata().await {
                Ok(v) => json_response(200, &v),
                Err(e) => err(&e),
            });
        }
        if path == format!("{base}{}", s.nonce_path) {
            if !is_post {
                return Ok(method_not_allowed());
            }
            return Ok(match self.nonce().await {
                Ok(v) => json_response(200, &v),
                Err(e) => err(&e),
            });
        }
        if path == format!("{base}{}", s.credential_path) {
            if !is_post {
                return Ok(method_not_allowed());
            }
            let r = self
                .credential_reply(auth.as_deref(), content_type.as_deref(), req.body())
                .await;
            return Ok(reply(r));
        }
        if path == format!("{base}{}", s.deferred_credential_path) {
            if !is_post {
                return Ok(method_not_allowed());
            }
            let r = self
                .deferred_credential_reply(auth.as_deref(), content_type.as_deref(), req.body())
                .await;
            return Ok(reply(r));
        }
        if path == format!("{base}{}", s.notification_path) {
            if !is_post {
                return Ok(method_not_allowed());
            }
            return Ok(match self.notification(auth.as_deref(), req.body()).await {
                Ok(()) => respond(204, "application/json", Vec::new()),
                Err(e) => err(&e),
            });
        }
        if let Some(id) = sub(&s.credential_offer_path) {
            if !is_get {
                return Ok(method_not_allowed());
            }
            return Ok(match self.offer_by_reference(&id).await {
                Ok(v) => json_response(200, &v),
                Err(_) => respond(404, "application/json", b"{}".to_vec()),
            });
        }
        if let Some(list) = sub(&s.status_list_path) {
            if !is_get {
                return Ok(method_not_allowed());
            }
            let Ok(n) = list.parse::<u64>() else {
                return Ok(respond(404, "application/json", b"{}".to_vec()));
            };
            return Ok(match self.status_list_token(n).await {
                Ok(Some(t)) => respond(200, STATUS_LIST_MEDIA_TYPE, t.into_bytes()),
                Ok(None) => respond(404, "application/json", b"{}".to_vec()),
                Err(e) => err(&e),
            });
        }
        Err(req)
    }
}
