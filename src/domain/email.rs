//! Email addresses: one user per address in the whole system (PRODUCT.md rule 1). Addresses
//! that name the same mailbox are the same address: an `EmailAddress` exists only in one
//! canonical form (trimmed, Unicode NFKC, lower case, the domain in its IDNA ASCII form), which
//! is what is stored, compared and mailed to. `jan@müller.de` and `jan@xn--mller-kva.de` are one
//! address, and so are `piet@ｋｗｈ.nl` (fullwidth letters) and `piet@kwh.nl`.

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
        // NFKC first: fullwidth and other compatibility forms become the letters they stand for.
        let normalised = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc()
            .normalize(input.trim())
            .to_lowercase();
        if normalised.is_empty() {
            return Err(ViolationKind::Required);
        }
        if normalised.chars().count() > MAX_EMAIL_LENGTH {
            return Err(ViolationKind::TooLong { max: MAX_EMAIL_LENGTH });
        }
        let (local, domain) = normalised.split_once('@').ok_or(ViolationKind::InvalidEmail)?;
        // UTS 46 (the IDNA mapping browsers and mail servers use): `müller.de` is the domain
        // `xn--mller-kva.de`, which is how DNS knows it.
        let domain = idna::domain_to_ascii(domain).map_err(|_| ViolationKind::InvalidEmail)?;
        let domain = domain.as_str();
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
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
        if local_ok && domain_ok && local.len() + 1 + domain.len() <= MAX_EMAIL_LENGTH {
            Ok(EmailAddress(format!("{local}@{domain}")))
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

    fn canonical(input: &str) -> String {
        EmailAddress::parse(input).unwrap().as_str().to_string()
    }

    #[test]
    fn addresses_naming_one_mailbox_are_one_address() {
        assert_eq!(canonical("jan@müller.de"), "jan@xn--mller-kva.de");
        assert_eq!(canonical("jan@xn--mller-kva.de"), "jan@xn--mller-kva.de");
        assert_eq!(canonical("JAN@MÜLLER.DE"), "jan@xn--mller-kva.de");
        assert_eq!(canonical("piet@ｋｗｈ.nl"), "piet@kwh.nl");
        assert_eq!(canonical("ｐｉｅｔ@kwh.nl"), "piet@kwh.nl");
        // A decomposed ü (u + combining diaeresis) is the composed one.
        assert_eq!(canonical("jan@mu\u{0308}ller.de"), "jan@xn--mller-kva.de");
        assert_eq!(canonical("jose\u{0301}@kwh.nl"), canonical("jos\u{e9}@kwh.nl"));
    }

    #[test]
    fn addresses_of_different_mailboxes_stay_distinct() {
        for (a, b) in [
            ("jan@muller.de", "jan@müller.de"),
            ("strasse@kwh.nl", "straße@kwh.nl"),
            ("jan@strasse.de", "jan@straße.de"),
            ("jan.de@kwh.nl", "jande@kwh.nl"),
            ("jan@kwh.nl", "jan@kwh.nl.example"),
        ] {
            assert_ne!(canonical(a), canonical(b), "{a} / {b}");
        }
    }

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
