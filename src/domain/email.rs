//! Email addresses: one user per address in the whole system, compared after trimming and
//! lowercasing (PRODUCT.md rule 1). An `EmailAddress` can only exist in that normal form.

use std::fmt;

use super::violation::ViolationKind;

/// RFC 5321 limits a forward path to 256 octets including the angle brackets.
pub const MAX_EMAIL_LENGTH: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Trims, lowercases and checks the shape `local@domain.tld`.
    ///
    /// Deliberately simple: whether an address really receives mail is what the invitation
    /// proves; here we refuse what cannot be an address (spaces, no domain, no dot, two `@`).
    pub fn parse(input: &str) -> Result<EmailAddress, ViolationKind> {
        let normalised = input.trim().to_lowercase();
        if normalised.is_empty() {
            return Err(ViolationKind::Required);
        }
        if normalised.chars().count() > MAX_EMAIL_LENGTH {
            return Err(ViolationKind::TooLong { max: MAX_EMAIL_LENGTH });
        }
        let (local, domain) = normalised.split_once('@').ok_or(ViolationKind::InvalidEmail)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        // `admin@localhost` is the bootstrap administrator of a local install.
        let domain_ok = domain == "localhost"
            || labels.len() >= 2
                && labels.iter().all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
                })
                && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
        if local_ok && domain_ok {
            Ok(EmailAddress(normalised))
        } else {
            Err(ViolationKind::InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_spaces_so_one_address_is_one_user() {
        let a = EmailAddress::parse("  Henk.deVries@Installatietechniek.NL ").unwrap();
        let b = EmailAddress::parse("henk.devries@installatietechniek.nl").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "henk.devries@installatietechniek.nl");
    }

    #[test]
    fn accepts_real_addresses() {
        for ok in [
            "jan@kwh.nl",
            "o'neill@woonstad.nl",
            "a.b+tag@sub.domein.nl",
            "zoë@müller.de",
            "x_y@a-b.com",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "jan",
            "jan@",
            "@kwh.nl",
            "jan@kwh",
            "jan@@kwh.nl",
            "jan @kwh.nl",
            "jan@kwh..nl",
            ".jan@kwh.nl",
            "jan.@kwh.nl",
            "jan@-kwh.nl",
            "jan@kwh.n",
            "jan<script>@kwh.nl",
            "jan@kwh.nl\0",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(ViolationKind::InvalidEmail), "{bad:?}");
        }
        assert_eq!(EmailAddress::parse("   "), Err(ViolationKind::Required));
    }

    #[test]
    fn refuses_addresses_longer_than_254() {
        let long = format!("{}@{}.nl", "a".repeat(60), "b".repeat(200));
        assert_eq!(EmailAddress::parse(&long), Err(ViolationKind::TooLong { max: 254 }));
    }
}
