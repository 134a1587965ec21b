//! Personal data at rest: AES-256-GCM with a key id beside each value (so keys can rotate and
//! older ones stay readable), a keyed hash (HMAC-SHA256) for exact-match lookups, and masks.

use std::collections::HashMap;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::platform::config::Settings;
use crate::platform::error::{AppError, AppResult};

/// A sealed value as stored: ciphertext (nonce first, base64), key id, lookup hash, mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub cipher: String,
    pub key_id: String,
    pub hash: String,
    pub masked: String,
}

pub struct Pii {
    current_id: String,
    keys: HashMap<String, Aes256Gcm>,
    index_key: [u8; 32],
}

/// A short, stable name for a key that does not reveal it.
fn key_id(key: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"linli-pii-key-id\0");
    h.update(key);
    hex::encode(&h.finalize()[..6])
}

impl Pii {
    pub fn new(current: &[u8; 32], previous: &[[u8; 32]], index_key: Option<&[u8; 32]>) -> Self {
        let mut keys = HashMap::new();
        for k in previous.iter().chain(std::iter::once(current)) {
            keys.insert(key_id(k), Aes256Gcm::new(k.into()));
        }
        // Without an explicit index key, derive it from the oldest key (the first previous key,
        // else the current one), so that rotating LINLI_PII_KEY keeps lookups working as long
        // as the original key is listed first in LINLI_PII_PREVIOUS_KEYS.
        let index_key = match index_key {
            Some(k) => *k,
            None => {
                let mut h = Sha256::new();
                h.update(b"linli-pii-index-key\0");
                h.update(previous.first().unwrap_or(current));
                h.finalize().into()
            }
        };
        Self {
            current_id: key_id(current),
            keys,
            index_key,
        }
    }

    pub fn from_settings(s: &Settings) -> Self {
        let previous: Vec<[u8; 32]> = s.pii_previous_keys.iter().map(|k| *k.expose()).collect();
        Self::new(
            s.pii_key.expose(),
            &previous,
            s.pii_index_key.as_ref().map(|k| k.expose()),
        )
    }

    /// Keyed hash of a normalised value; `field` separates the domains of phones and ID numbers.
    pub fn lookup_hash(&self, field: &str, value: &str) -> String {
        // The key is 32 bytes, which HMAC accepts; the error branch cannot happen.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(field.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Encrypts under the current key; the field name is bound in as associated data, so a
    /// ciphertext cannot be moved to another field.
    pub fn seal(&self, field: &str, value: &str, masked: String) -> AppResult<Sealed> {
        let cipher = self
            .keys
            .get(&self.current_id)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("current PII key missing")))?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: value.as_bytes(),
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal(anyhow::anyhow!("encryption failed")))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(Sealed {
            cipher: base64::engine::general_purpose::STANDARD.encode(out),
            key_id: self.current_id.clone(),
            hash: self.lookup_hash(field, value),
            masked,
        })
    }

    pub fn open(&self, field: &str, cipher_b64: &str, key_id: &str) -> AppResult<String> {
        let cipher = self.keys.get(key_id).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "no PII key with id {key_id}: add it to LINLI_PII_PREVIOUS_KEYS"
            ))
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(cipher_b64)
            .map_err(|_| AppError::internal(anyhow::anyhow!("stored ciphertext is not base64")))?;
        if bytes.len() < 12 {
            return Err(AppError::internal(anyhow::anyhow!(
                "stored ciphertext too short"
            )));
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal(anyhow::anyhow!("stored ciphertext does not open")))?;
        String::from_utf8(plain).map_err(AppError::internal)
    }
}

/// `张三丰` → `张*`: the surname (the first character) and one star, whatever the length, so the
/// mask tells nothing of the given name.
pub fn mask_name(name: &str) -> String {
    match name.trim().chars().next() {
        Some(first) => format!("{first}*"),
        None => String::new(),
    }
}

/// `13812341234` → `138****1234`.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// The phone mask shown to anyone but the number's owner: the first three and last two digits
/// (`138******34`), derived from the stored owner's mask (`138****1234`). Four known digits more
/// would leave only 10,000 candidates for a number; this leaves a million.
pub fn staff_phone_mask(owner_mask: &str) -> String {
    // Runs for every row of a staff list: one allocation, no intermediate strings.
    let len = owner_mask.chars().count();
    if len < 5 {
        return "*".repeat(len);
    }
    owner_mask
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 3 || i >= len - 2 { c } else { '*' })
        .collect()
}

/// The ten-year age band of someone born on `birth`, as of `today`: `0-9`, …, `80-89`, `90+`.
/// Shown instead of the birth date to staff who may not reveal: a birth date beside the masked
/// ID number and the gender narrows the number down to a handful of candidates.
pub fn age_band(birth: chrono::NaiveDate, today: chrono::NaiveDate) -> String {
    const BANDS: [&str; 10] = [
        "0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90+",
    ];
    let age = today.years_since(birth).unwrap_or(0);
    BANDS[(age / 10).min(9) as usize].to_string()
}

/// Only the last four characters of an ID number.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let keep = chars.len().min(4);
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{}{tail}", "*".repeat(chars.len() - keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_and_do_not_contain_the_plaintext() {
        let pii = Pii::new(&[7u8; 32], &[], None);
        let s = pii
            .seal("phone", "13812341234", mask_phone("13812341234"))
            .unwrap();
        assert!(!s.cipher.contains("13812341234"));
        assert_eq!(s.masked, "138****1234");
        assert_eq!(
            pii.open("phone", &s.cipher, &s.key_id).unwrap(),
            "13812341234"
        );
        // Bound to its field.
        assert!(pii.open("id_number", &s.cipher, &s.key_id).is_err());
    }

    #[test]
    fn values_sealed_under_an_old_key_stay_readable_after_rotation() {
        let old = [1u8; 32];
        let new = [2u8; 32];
        let index = [9u8; 32];
        let before = Pii::new(&old, &[], Some(&index));
        let s = before.seal("phone", "13900000000", String::new()).unwrap();
        let after = Pii::new(&new, &[old], Some(&index));
        assert_eq!(
            after.open("phone", &s.cipher, &s.key_id).unwrap(),
            "13900000000"
        );
        assert_eq!(after.lookup_hash("phone", "13900000000"), s.hash);
        let fresh = after.seal("phone", "13900000000", String::new()).unwrap();
        assert_ne!(fresh.key_id, s.key_id);
        // Without the old key, the old value cannot be opened.
        let forgot = Pii::new(&new, &[], Some(&index));
        assert!(forgot.open("phone", &s.cipher, &s.key_id).is_err());
    }

    #[test]
    fn without_an_index_key_lookups_survive_rotation_through_the_oldest_key() {
        let (k0, k1, k2) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let h0 = Pii::new(&k0, &[], None).lookup_hash("phone", "13900000000");
        assert_eq!(
            Pii::new(&k1, &[k0], None).lookup_hash("phone", "13900000000"),
            h0
        );
        assert_eq!(
            Pii::new(&k2, &[k0, k1], None).lookup_hash("phone", "13900000000"),
            h0
        );
    }

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(staff_phone_mask("138****1234"), "138******34");
        assert_eq!(staff_phone_mask("+86 138****1234"), "+86**********34");
        assert_eq!(staff_phone_mask("12345"), "12345");
        assert_eq!(staff_phone_mask("1234"), "****");
        assert_eq!(staff_phone_mask(""), "");
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(age_band(d(1950, 6, 1), d(2026, 5, 31)), "70-79");
        assert_eq!(age_band(d(1950, 6, 1), d(2026, 6, 1)), "70-79");
        assert_eq!(age_band(d(1930, 1, 1), d(2026, 1, 1)), "90+");
        assert_eq!(age_band(d(2020, 1, 1), d(2026, 1, 1)), "0-9");
        assert_eq!(age_band(d(2016, 1, 1), d(2026, 1, 1)), "10-19");
        assert_eq!(age_band(d(1936, 1, 2), d(2026, 1, 1)), "80-89");
        assert_eq!(age_band(d(1900, 1, 1), d(2026, 1, 1)), "90+");
        // Born after `today` (a typo in a roster): no negative band.
        assert_eq!(age_band(d(2030, 1, 1), d(2026, 1, 1)), "0-9");
        assert_eq!(mask_id_number("11010519491231002X"), "**************002X");
    }
}
