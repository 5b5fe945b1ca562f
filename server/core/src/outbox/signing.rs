//! Seed 002's webhook signature: `x-di-signature` is the lowercase hex HMAC-SHA256 of
//! `` `${timestamp}.${rawBody}` `` with the endpoint's secret; `x-di-timestamp` is that
//! timestamp (Unix seconds).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    crate::model::ids::hex(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_a_known_hmac() {
        // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            super::sign("secret", "1700000000", r#"{"a":1}"#),
            "49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }
}
