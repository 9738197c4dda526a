//! Password hashing with argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
//!
//! Hashing costs tens of milliseconds of CPU on purpose: call these from blocking threads only.

use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

/// Makes the decoy hash now (the application does so at start, on a password thread).
pub fn make_decoy() {
    LazyLock::force(&DECOY_HASH);
}

/// Whether `password` matches `stored`; with no stored hash, spends the same time and says no.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(stored) => verify_against(password, stored),
        None => {
            let _ = verify_against(password, DECOY_HASH.as_str());
            false
        }
    }
}

/// How many argon2id runs may go at once: one per core (more only queue for the cores and
/// hold their 19 MiB meanwhile). Read once: the core count comes from cgroup files on Linux.
pub static PARALLEL_RUNS: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

/// Argon2's working memory (19 MiB a run), kept for the next run of a burst of sign-ins
/// instead of freed after each.
///
/// Freed after each, it taught glibc to serve blocks of that size from per-thread arenas that
/// it never gives back: 2.8 GB resident after ten seconds of sign-ins at 32 connections.
/// Callers run at most one verification per core at once, so this holds about that many
/// blocks, until [`release_work_memory`].
static WORK_MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// How long the working memory is kept after the last run. The first sign-in after that maps
/// its 19 MiB anew: about 13 ms more on a 30 ms sign-in on this machine (SECURITY.md); within a
/// burst none pays it.
pub const KEEP_WORK_MEMORY: Duration = Duration::from_secs(10);

/// Frees the kept working memory: the password threads call this when no sign-in has come for
/// [`KEEP_WORK_MEMORY`], so that an instance holds 19 MiB per core only while people are
/// signing in. The binary has glibc map blocks this large on their own
/// (`cli::map_large_blocks_on_their_own`), so freeing them gives them back to the system.
pub fn release_work_memory() {
    if let Ok(mut pool) = WORK_MEMORY.lock() {
        *pool = Vec::new();
    }
}

fn verify_against(password: &str, stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::new(hash.algorithm.as_str()), Params::try_from(&hash)) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut memory = WORK_MEMORY
        .lock()
        .map(|mut pool| pool.pop())
        .unwrap_or_default()
        .filter(|blocks| blocks.len() == params.block_count())
        .unwrap_or_else(|| vec![Block::default(); params.block_count()]);
    let mut computed = vec![0u8; expected.len()];
    let outcome = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut computed,
        &mut memory,
    );
    if let Ok(mut pool) = WORK_MEMORY.lock()
        && pool.len() < *PARALLEL_RUNS
    {
        pool.push(memory);
    }
    // Output compares in constant time.
    outcome.is_ok() && Output::new(&computed).is_ok_and(|computed| computed == *expected)
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
    fn hashes_made_with_other_parameters_still_verify() {
        let params = Params::new(8 * 1024, 1, 1, None).unwrap();
        let older = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"an older password")
            .unwrap()
            .to_string();
        assert!(verify("an older password", Some(&older)));
        assert!(!verify("another password", Some(&older)));
        assert!(!verify("an older password", Some("not a hash at all")));
    }

    #[test]
    fn policy_refuses_short_long_and_own_email() {
        assert!(check_policy("short", "a@b.nl").is_err());
        assert!(check_policy(&"x".repeat(129), "a@b.nl").is_err());
        assert!(check_policy("jan@kwh.nl", "jan@kwh.nl").is_err());
        assert!(check_policy("a long enough password", "jan@kwh.nl").is_ok());
    }
}
