//! Access tokens (JWT, HS256 pinned) and opaque refresh tokens.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::Settings;

const ALG: Algorithm = Algorithm::HS256;

/// Every claim is required: a token missing one fails to deserialize and is refused.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    /// The refresh-token family this access token was issued with; revoking the family
    /// revokes its access tokens too.
    pub fam: Uuid,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    pub access_ttl_secs: i64,
}

impl JwtKeys {
    pub fn new(settings: &Settings) -> Self {
        let secret = settings.jwt_secret.expose();
        let mut validation = Validation::new(ALG);
        validation.algorithms = vec![ALG];
        validation.leeway = 5;
        validation.validate_exp = true;
        validation.set_issuer(&[&settings.jwt_issuer]);
        validation.set_audience(&[&settings.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            access_ttl_secs: settings.access_token_ttl.as_secs() as i64,
        }
    }

    pub fn issue(&self, user_id: Uuid, family: Uuid) -> anyhow::Result<(String, Claims)> {
        let now = unix_now();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            exp: now + self.access_ttl_secs,
            iat: now,
            jti: Uuid::now_v7(),
            fam: family,
        };
        let token = jsonwebtoken::encode(&Header::new(ALG), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    pub fn decode(&self, token: &str) -> Option<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        // A token issued in the future is not one we issued.
        (data.claims.iat <= unix_now() + 60).then_some(data.claims)
    }
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A new opaque refresh token: 256 random bits, URL-safe.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a refresh token: its SHA-256. The token has 256 bits of entropy, so a
/// fast hash is enough; a database leak does not yield usable tokens.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
