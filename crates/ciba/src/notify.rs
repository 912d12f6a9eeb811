//! Payloads of notifications (pure): the user's message (email, SMS), the ping (CIBA §10.2),
//! the push of tokens (§10.3.1) and the push of an error (§12).

use idforge_oauth_core::{Error, TokenResponse};
use serde_json::{json, Value};

use crate::model::Channel;
use crate::ports::UserNotification;

/// CIBA §10.2: the ping body, `{"auth_req_id"}`.
pub fn ping_body(auth_req_id: &str) -> Value {
    json!({ "auth_req_id": auth_req_id })
}

/// CIBA §10.3.1: the push body, the token response plus `auth_req_id`.
pub fn push_tokens_body(auth_req_id: &str, tokens: &TokenResponse) -> Value {
    let mut body = tokens.to_json();
    if let Value::Object(m) = &mut body {
        m.insert("auth_req_id".into(), json!(auth_req_id));
    }
    body
}

/// CIBA §12: the push error body, `{"auth_req_id", "error", "error_description"}`
/// (`access_denied` or `expired_token`).
pub fn push_error_body(auth_req_id: &str, error: &Error) -> Value {
    json!({
        "auth_req_id": auth_req_id,
        "error": error.code(),
        "error_description": error.description(),
    })
}

/// The message to the user on `channel` (email or SMS): who asks, for whom it acts, the
/// binding message to compare with the consumption device, and the approval link.
pub fn user_message(
    channel: Channel,
    to: &str,
    client_id: &str,
    actor: Option<&str>,
    binding_message: Option<&str>,
    approval_url: &str,
) -> UserNotification {
    let who = match actor {
        Some(agent) => format!("{client_id} (agent {agent})"),
        None => client_id.to_owned(),
    };
    let mut text = format!("{who} asks for your approval.");
    if let Some(m) = binding_message {
        text.push_str(&format!(" Check that your device shows: {m}."));
    }
    text.push_str(&format!(" Approve or deny: {approval_url}"));
    UserNotification {
        channel,
        to: to.to_owned(),
        subject: format!("Approve a request from {client_id}"),
        text,
        approval_url: approval_url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn ping_is_only_the_auth_req_id_s10_2() {
        assert_eq!(ping_body("abc"), json!({"auth_req_id": "abc"}));
    }

    #[test]
    fn push_carries_tokens_and_auth_req_id_s10_3_1() {
        let t = TokenResponse {
            access_token: "at".into(),
            token_type: "Bearer".into(),
            expires_in: 60,
            refresh_token: Some("rt".into()),
            scope: Some("openid".into()),
            id_token: Some("idt".into()),
            extra: Map::new(),
        };
        let b = push_tokens_body("r1", &t);
        assert_eq!(b["auth_req_id"], "r1");
        assert_eq!(b["access_token"], "at");
        assert_eq!(b["refresh_token"], "rt");
        assert_eq!(b["id_token"], "idt");
        assert_eq!(b["token_type"], "Bearer");
        assert_eq!(b["expires_in"], 60);
    }

    #[test]
    fn push_error_s12() {
        let e = Error::protocol("access_denied", 400, "the user denied the request");
        let b = push_error_body("r1", &e);
        assert_eq!(
            b,
            json!({"auth_req_id": "r1", "error": "access_denied",
                   "error_description": "the user denied the request"})
        );
    }

    #[test]
    fn user_message_has_link_binding_message_and_agent() {
        let m = user_message(
            Channel::Sms,
            "+15550100",
            "assistant",
            Some("assistant"),
            Some("MEET-42"),
            "https://op/bc-approve?handle=h",
        );
        assert_eq!(m.to, "+15550100");
        assert!(m.text.contains("MEET-42"));
        assert!(m.text.contains("https://op/bc-approve?handle=h"));
        assert!(m.text.contains("agent assistant"));
        assert_eq!(m.channel, Channel::Sms);
    }
}
