//! Corporations (woningcorporaties) and the survey parts (onderdelen) they run.

use std::collections::BTreeSet;
use std::fmt;

use super::keyed::keyed_enum;
use super::violation::{ViolationKind, Violations};

/// A corporation's short code, e.g. `KWH042`: 2 to 20 letters, digits, `-` or `_`, kept in
/// upper case so that `kwh042` and `KWH042` are one corporation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CorporationCode(String);

impl CorporationCode {
    pub fn parse(input: &str) -> Result<CorporationCode, ViolationKind> {
        let code = input.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(ViolationKind::Required);
        }
        let valid = (2..=20).contains(&code.len())
            && code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if valid {
            Ok(CorporationCode(code))
        } else {
            Err(ViolationKind::InvalidCorporationCode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CorporationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

keyed_enum! {
    /// The parts of the tenant-satisfaction survey (onderdelen).
    pub enum SurveyPart {
        NewTenants = "new_tenants",
        Repairs = "repairs",
        Maintenance = "maintenance",
        DepartedTenants = "departed_tenants",
        MajorMaintenance = "major_maintenance",
        Contact = "contact",
        Custom1 = "custom_1",
        Custom2 = "custom_2",
        Custom3 = "custom_3",
        Custom4 = "custom_4",
    }
}

impl SurveyPart {
    /// The label the Dutch screens show.
    pub fn dutch_label(self) -> &'static str {
        match self {
            SurveyPart::NewTenants => "Nieuwe huurders",
            SurveyPart::Repairs => "Reparaties",
            SurveyPart::Maintenance => "Onderhoud",
            SurveyPart::DepartedTenants => "Vertrokken huurders",
            SurveyPart::MajorMaintenance => "Groot onderhoud",
            SurveyPart::Contact => "Contact",
            SurveyPart::Custom1 => "Maatwerkonderzoek 1",
            SurveyPart::Custom2 => "Maatwerkonderzoek 2",
            SurveyPart::Custom3 => "Maatwerkonderzoek 3",
            SurveyPart::Custom4 => "Maatwerkonderzoek 4",
        }
    }
}

/// Parses a list of keys into a set, reporting unknown and repeated entries by index.
pub fn parse_key_set<T: Ord + Copy>(
    field: &str,
    keys: &[String],
    from_key: impl Fn(&str) -> Option<T>,
    violations: &mut Violations,
) -> BTreeSet<T> {
    let mut set = BTreeSet::new();
    for (index, key) in keys.iter().enumerate() {
        match from_key(key.trim()) {
            Some(value) if !set.insert(value) => violations.add(format!("{field}[{index}]"), ViolationKind::Duplicate),
            Some(_) => {}
            None => violations.add(format!("{field}[{index}]"), ViolationKind::UnknownValue),
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_case_and_short() {
        assert_eq!(CorporationCode::parse(" kwh042 ").unwrap().as_str(), "KWH042");
        assert_eq!(CorporationCode::parse(""), Err(ViolationKind::Required));
        for bad in ["K", "KWH 042", "KWH/042", "ÄBC", &"A".repeat(21)] {
            assert_eq!(
                CorporationCode::parse(bad),
                Err(ViolationKind::InvalidCorporationCode),
                "{bad}"
            );
        }
    }

    #[test]
    fn ten_parts_with_unique_keys_and_dutch_labels() {
        let keys: BTreeSet<_> = SurveyPart::ALL.iter().map(|p| p.key()).collect();
        assert_eq!(keys.len(), 10);
        for &part in SurveyPart::ALL {
            assert_eq!(SurveyPart::from_key(part.key()), Some(part));
            let json = serde_json::to_string(&part).unwrap();
            assert_eq!(json, format!("\"{}\"", part.key()));
        }
        assert_eq!(SurveyPart::MajorMaintenance.dutch_label(), "Groot onderhoud");
    }

    #[test]
    fn key_sets_report_unknown_and_repeated_entries() {
        let mut violations = Violations::new();
        let keys = vec!["repairs".to_string(), "bogus".into(), "repairs".into()];
        let set = parse_key_set("active_parts", &keys, SurveyPart::from_key, &mut violations);
        assert_eq!(set.len(), 1);
        let fields: Vec<_> = violations.into_vec().into_iter().map(|v| (v.field, v.kind)).collect();
        assert_eq!(
            fields,
            vec![
                ("active_parts[1]".to_string(), ViolationKind::UnknownValue),
                ("active_parts[2]".to_string(), ViolationKind::Duplicate)
            ]
        );
    }
}
