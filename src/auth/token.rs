//! Access tokens: HS256 JWTs with issuer, audience, expiry, issue time, subject and the
//! user's token version (raised to revoke every token of a user at once).

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::{Secret, Settings};

pub const ISSUER: &str = "mijnkwh";
pub const AUDIENCE: &str = "mijnkwh-api";

/// Service tokens start with this, so they are told from access tokens without trying both.
pub const SERVICE_TOKEN_PREFIX: &str = "mkwh_";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's token version when the token was issued.
    pub ver: i32,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_seconds: i64,
}

impl TokenKeys {
    pub fn new(secret: &Secret, ttl_seconds: i64) -> anyhow::Result<Self> {
        let encoding = EncodingKey::from_secret(secret.expose().as_bytes())?;
        let decoding = DecodingKey::from_secret(secret.expose().as_bytes())?;
        // Pinned to HS256: `alg: none` and algorithm confusion are refused by construction.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(TokenKeys {
            encoding,
            decoding,
            validation,
            ttl_seconds,
        })
    }

    pub fn issue(&self, user_id: &str, token_version: i32, now_unix: i64) -> anyhow::Result<String> {
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.into(),
            iat: now_unix,
            exp: now_unix + self.ttl_seconds,
            ver: token_version,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing a token failed: {e}"))
    }

    /// The claims of a valid token; `None` for anything forged, expired or meant for others.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// `JWT_SECRET`, or (SQLite only) one generated once and kept in the data folder.
pub fn resolve_secret(settings: &Settings) -> anyhow::Result<Secret> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.clone());
    }
    let dir = settings.database.data_dir();
    let path = dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path)
        && existing.trim().len() >= 32
    {
        return Ok(Secret::new(existing.trim()));
    }
    std::fs::create_dir_all(&dir)?;
    let generated = random_token();
    write_private(&path, &generated)?;
    tracing::warn!(
        path = %path.display(),
        "JWT_SECRET is not set: generated a signing key and kept it there; set JWT_SECRET in production"
    );
    Ok(Secret::new(generated))
}

/// 256 random bits, URL-safe base64.
pub fn random_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The key that derives link tokens, kept apart from the one that signs access tokens.
#[derive(Clone)]
pub struct LinkKey(Vec<u8>);

impl LinkKey {
    /// Derived from the signing secret that every instance already shares, under a label of
    /// its own, so that no access token and no link token can be computed from the other.
    pub fn from_secret(secret: &Secret) -> LinkKey {
        LinkKey(hmac_sha256(secret.expose().as_bytes(), b"mijnkwh link tokens v1"))
    }

    /// The token of one link: the same for every delivery attempt of its message, so a
    /// retry after a mail server that accepted the message but reported a failure sends the
    /// link that already works. 256 bits, URL-safe base64; a new invitation is a new link row
    /// (a new id) and so a new token, and voiding the old row ends the old token.
    pub fn token_for(&self, link_id: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hmac_sha256(&self.0, link_id.as_bytes()))
    }
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey([redacted])")
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// How single-use link tokens are stored: SHA-256, hex. The tokens carry 256 random bits, so a
/// fast hash is enough; what matters is that a database leak yields no usable link.
pub fn link_token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn keys() -> TokenKeys {
        TokenKeys::new(&Secret::new("0123456789abcdef0123456789abcdef"), 3600).unwrap()
    }

    #[test]
    fn a_link_has_one_token_per_link_and_secret() {
        let key = LinkKey::from_secret(&Secret::new("0123456789abcdef0123456789abcdef"));
        let other = LinkKey::from_secret(&Secret::new("fedcba9876543210fedcba9876543210"));
        let token = key.token_for("link-1");
        assert_eq!(token, key.token_for("link-1"), "every attempt carries the same link");
        assert_eq!(token.len(), 43, "256 bits, URL-safe base64");
        assert_ne!(token, key.token_for("link-2"));
        assert_ne!(token, other.token_for("link-1"));
    }

    #[test]
    fn issued_tokens_verify() {
        let now = chrono::Utc::now().timestamp();
        let token = keys().issue("user-1", 3, now).unwrap();
        let claims = keys().verify(&token).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.ver, claims.exp - claims.iat),
            ("user-1", 3, 3600)
        );
    }

    #[test]
    fn expired_tampered_foreign_and_unsigned_tokens_are_refused() {
        let now = chrono::Utc::now().timestamp();
        assert!(
            keys().verify(&keys().issue("u", 0, now - 7200).unwrap()).is_none(),
            "expired"
        );

        let token = keys().issue("u", 0, now).unwrap();
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(keys().verify(&tampered).is_none(), "tampered");

        let other = TokenKeys::new(&Secret::new("another-secret-of-at-least-32-chars!!"), 3600).unwrap();
        assert!(keys().verify(&other.issue("u", 0, now).unwrap()).is_none(), "other key");

        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = format!(
            r#"{{"iss":"mijnkwh","aud":"mijnkwh-api","sub":"u","iat":{now},"exp":{},"ver":0}}"#,
            now + 60
        );
        let unsigned = format!(
            "{}.{}.",
            engine.encode(r#"{"alg":"none","typ":"JWT"}"#),
            engine.encode(claims)
        );
        assert!(keys().verify(&unsigned).is_none(), "alg none");

        let wrong_audience = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                iss: ISSUER.into(),
                aud: "other".into(),
                sub: "u".into(),
                iat: now,
                exp: now + 60,
                ver: 0,
            },
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef").unwrap(),
        )
        .unwrap();
        assert!(keys().verify(&wrong_audience).is_none(), "audience");
    }
}
