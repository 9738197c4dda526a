//! Names and free texts: trimmed, with length limits, any Unicode letters kept as typed.

use super::violation::ViolationKind;

pub const MAX_NAME_LENGTH: usize = 100;
pub const MAX_REMARKS_LENGTH: usize = 2000;

/// A required text (first name, last name, corporation name): trimmed, not empty, bounded.
pub fn required_text(input: &str, max: usize) -> Result<String, ViolationKind> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ViolationKind::Required);
    }
    bounded(trimmed, max)
}

/// An optional text (job title, phone, remarks): trimmed; empty means absent.
pub fn optional_text(input: Option<&str>, max: usize) -> Result<Option<String>, ViolationKind> {
    match input.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => bounded(text, max).map(Some),
    }
}

fn bounded(text: &str, max: usize) -> Result<String, ViolationKind> {
    // Control characters (NUL, escape sequences) have no place in names or remarks; line
    // breaks do in remarks.
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ViolationKind::NotAllowed);
    }
    if text.chars().count() > max {
        return Err(ViolationKind::TooLong { max });
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_names_round_trip_unchanged() {
        for name in [
            "Ĳsselmonde",
            "Zoë",
            "O'Neill",
            "Müller-Lüdenscheidt",
            "van der Berg",
            "Øster",
        ] {
            assert_eq!(required_text(name, MAX_NAME_LENGTH).unwrap(), name);
        }
    }

    #[test]
    fn trims_and_bounds() {
        assert_eq!(required_text("  Henk ", 100).unwrap(), "Henk");
        assert_eq!(required_text("   ", 100), Err(ViolationKind::Required));
        assert_eq!(required_text(&"ë".repeat(100), 100).unwrap().chars().count(), 100);
        assert_eq!(
            required_text(&"ë".repeat(101), 100),
            Err(ViolationKind::TooLong { max: 100 })
        );
        assert_eq!(optional_text(Some("  "), 100), Ok(None));
        assert_eq!(optional_text(None, 100), Ok(None));
        assert_eq!(optional_text(Some("a\nb"), 2000), Ok(Some("a\nb".into())));
        assert_eq!(required_text("a\0b", 100), Err(ViolationKind::NotAllowed));
    }
}
