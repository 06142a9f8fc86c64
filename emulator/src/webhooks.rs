//! Webhook deliveries the way GitHub sends them: `X-GitHub-Event`, `X-GitHub-Delivery`
//! (a GUID) and `X-Hub-Signature-256` (`sha256=` + hex HMAC-SHA256 of the raw body, keyed
//! with the app's webhook secret). Tests build one, sign it (or sign it wrongly, or not
//! at all) and send it to the BFF.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::fixtures::FixtureUser;
use crate::state::random_hex;

/// One delivery, ready to send.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event: String,
    /// `X-GitHub-Delivery`: GitHub sends the same GUID again when it redelivers.
    pub id: String,
    pub body: String,
    pub signature: Option<String>,
}

impl Delivery {
    /// `github_app_authorization` with `action: "revoked"`: `user` revoked the app.
    pub fn app_authorization_revoked(user: &FixtureUser) -> Self {
        let body = json!({
            "action": "revoked",
            "sender": {"login": user.login, "id": user.id, "type": "User", "site_admin": false},
        });
        Self::new("github_app_authorization", body.to_string())
    }

    /// Any event with any body (unsigned until [`Delivery::signed`]).
    pub fn new(event: &str, body: String) -> Self {
        let id = random_hex(16);
        let id = format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..]
        );
        Self {
            event: event.to_owned(),
            id,
            body,
            signature: None,
        }
    }

    /// Signs the body with `secret` (pass a wrong secret to forge a bad signature).
    pub fn signed(mut self, secret: &str) -> Self {
        self.signature = Some(signature(secret, self.body.as_bytes()));
        self
    }

    /// POSTs the delivery to `url` and returns the HTTP status.
    pub async fn send(&self, url: &str) -> reqwest::Result<u16> {
        let mut request = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("user-agent", "GitHub-Hookshot/emulator")
            .header("x-github-event", &self.event)
            .header("x-github-delivery", &self.id)
            .body(self.body.clone());
        if let Some(signature) = &self.signature {
            request = request.header("x-hub-signature-256", signature);
        }
        Ok(request.send().await?.status().as_u16())
    }
}

/// `sha256=` + lowercase hex of HMAC-SHA256(`secret`, `body`).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_githubs_documented_example() {
        // From GitHub's "Validating webhook deliveries" page.
        assert_eq!(
            signature("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
