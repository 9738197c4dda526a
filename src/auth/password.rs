//! Password hashing with argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
//!
//! Hashing costs tens of milliseconds of CPU on purpose: call these from blocking threads only.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::violation::ViolationKind;

pub const MIN_PASSWORD_LENGTH: usize = 10;
pub const MAX_PASSWORD_LENGTH: usize = 128;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// A hash of a password nobody knows, verified against when there is no user or no password,
/// so that sign-in takes as long for an unknown address as for a wrong password.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| hash("decoy password that matches nothing").expect("hash"));

/// Whether `password` matches `stored`; with no stored hash, spends the same time and says no.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(stored) => hasher().verify_password(password.as_bytes(), stored).is_ok(),
        None => {
            let _ = hasher().verify_password(password.as_bytes(), DECOY_HASH.as_str());
            false
        }
    }
}

/// Password policy: 10 to 128 characters, and not the user's own email address.
pub fn check_policy(password: &str, email: &str) -> Result<(), ViolationKind> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LENGTH {
        return Err(ViolationKind::TooShort {
            min: MIN_PASSWORD_LENGTH,
        });
    }
    if length > MAX_PASSWORD_LENGTH {
        return Err(ViolationKind::TooLong {
            max: MAX_PASSWORD_LENGTH,
        });
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(ViolationKind::NotAllowed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", Some(&stored)));
        assert!(!verify("wrong horse battery", Some(&stored)));
        assert!(!verify("anything at all", None));
    }

    #[test]
    fn policy_refuses_short_long_and_own_email() {
        assert!(check_policy("short", "a@b.nl").is_err());
        assert!(check_policy(&"x".repeat(129), "a@b.nl").is_err());
        assert!(check_policy("jan@kwh.nl", "jan@kwh.nl").is_err());
        assert!(check_policy("a long enough password", "jan@kwh.nl").is_ok());
    }
}
