//! The backchannel authentication endpoint over `http::Request<Vec<u8>>` (feature `http`), as
//! an oauth-core [`HttpEndpoints`], so a host routes it with `http::route(&[&provider, &ciba],
//! request)`.

use std::sync::Arc;

use ::http::{header, Method, Request, Response};
use async_trait::async_trait;
use idforge_oauth_core::http::{error_response, json_response, HttpEndpoints};
use idforge_oauth_core::{Context, Error, TokenRequest};

use crate::endpoint::Ciba;

/// [`Ciba`] with the provider's context, answering `POST {backchannel_path}`.
#[derive(Debug, Clone)]
pub struct CibaHttp {
    ciba: Ciba,
    ctx: Arc<Context>,
}

impl CibaHttp {
    /// Serves `ciba` with the provider context `ctx` (`Provider::ctx`).
    pub fn new(ciba: Ciba, ctx: Arc<Context>) -> CibaHttp {
        CibaHttp { ciba, ctx }
    }
}

#[async_trait]
impl HttpEndpoints for CibaHttp {
    async fn handle_http(
        &self,
        req: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, Request<Vec<u8>>> {
        if req.uri().path() != self.ciba.config().backchannel_path {
            return Err(req);
        }
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let used_basic = auth.as_deref().is_some_and(|a| {
            a.trim_start()
                .get(..5)
                .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        });
        // CIBA §7.1: POST with a form body.
        if req.method() != Method::POST {
            return Ok(json_response(
                405,
                &serde_json::json!({"error": "invalid_request", "error_description": "method not allowed"}),
            ));
        }
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            let e =
                Error::InvalidRequest("the body must be application/x-www-form-urlencoded".into());
            return Ok(error_response(&e, used_basic));
        }
        let result = match TokenRequest::from_form(req.body(), auth, &self.ctx.config.limits) {
            Ok(tr) => self.ciba.backchannel(&self.ctx, &tr).await,
            Err(e) => Err(e),
        };
        Ok(match result {
            Ok(r) => json_response(200, &r.to_json()),
            Err(e) => error_response(&e, used_basic),
        })
    }
}
