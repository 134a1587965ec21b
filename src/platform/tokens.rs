//! Access tokens (JWT, HS256 pinned) and opaque refresh tokens.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind as JwtErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::platform::config::Settings;

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

/// HS256 and nothing else, on the `hmac`/`sha2` crates. jsonwebtoken 10+ leaves cryptography to a
/// provider; its bundled ones pull in RSA (with an open advisory) or a C library, and we only
/// ever sign and verify HS256. Any other algorithm is refused by the factories (and by
/// `Validation`, which pins HS256 before any key is used).
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: hs256_signer,
    verifier_factory: hs256_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

type HmacSha256 = hmac::Hmac<Sha256>;

struct Hs256(HmacSha256);

fn hs256(alg: &Algorithm, secret: Result<&[u8], JwtError>) -> Result<Hs256, JwtError> {
    use hmac::Mac as _;
    if *alg != Algorithm::HS256 {
        return Err(JwtErrorKind::InvalidAlgorithm.into());
    }
    HmacSha256::new_from_slice(secret?)
        .map(Hs256)
        .map_err(|_| JwtErrorKind::InvalidKeyFormat.into())
}

fn hs256_signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, JwtError> {
    Ok(Box::new(hs256(alg, Ok(key.as_bytes()))?))
}

fn hs256_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, JwtError> {
    Ok(Box::new(hs256(alg, key.try_get_as_bytes())?))
}

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        use hmac::Mac as _;
        let mut mac = self.0.clone();
        mac.update(msg);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        use hmac::Mac as _;
        let mut mac = self.0.clone();
        mac.update(msg);
        // Constant-time comparison.
        mac.verify_slice(sig).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// Installs the HS256 provider for the process (idempotent; a provider installed earlier by
/// someone else is left in place only if it is this one).
fn ensure_provider() {
    let _ = HS256_ONLY.install_default();
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
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        ensure_provider();
        let secret = settings.jwt_secret.expose();
        let mut validation = Validation::new(ALG);
        validation.algorithms = vec![ALG];
        validation.leeway = 5;
        validation.validate_exp = true;
        validation.set_issuer(&[&settings.jwt_issuer]);
        validation.set_audience(&[&settings.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            access_ttl_secs: settings.access_token_ttl.as_secs() as i64,
        })
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
