//! Report settings of a contractor (PRODUCT.md rules 7 and 8) and the approval of a change
//! (rule 9): a state machine, and what a reviewer needs to see for the GDPR check.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::corporation::{SurveyPart, parse_key_set};
use super::keyed::keyed_enum;
use super::names::{LOW_SIMILARITY, similarity};
use super::violation::{ViolationKind, Violations};

/// Which survey parts a contractor sees, whose results, and whether it may download Excel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSettings {
    pub parts: BTreeSet<SurveyPart>,
    /// Spellings in the catalog that are this contractor itself.
    pub own_names: Vec<String>,
    /// Catalog names of other contractors whose results it may also see.
    pub partner_names: Vec<String>,
    pub excel_download: bool,
}

/// A requested change, as sent.
#[derive(Debug, Clone, Default)]
pub struct ReportSettingsInput {
    pub parts: Vec<String>,
    pub own_names: Vec<String>,
    pub partner_names: Vec<String>,
    pub excel_download: bool,
}

/// The most names `own_names` and `partner_names` may each hold. A contractor's own spellings
/// and its subcontractors number in the tens; the bound keeps one request from checking
/// thousands of names against the catalog (and from SQLite's limit on bound parameters).
pub const MAX_NAMES_PER_LIST: usize = 100;

/// The size of the name lists, checked before any name is looked up.
pub fn check_list_sizes(input: &ReportSettingsInput) -> Result<(), Violations> {
    let mut violations = Violations::new();
    for (field, names) in [("own_names", &input.own_names), ("partner_names", &input.partner_names)] {
        if names.len() > MAX_NAMES_PER_LIST {
            violations.add(
                field,
                ViolationKind::TooMany {
                    max: MAX_NAMES_PER_LIST,
                },
            );
        }
    }
    violations.finish(|| ())
}

/// Rules 7 and 8 against the corporation as it is now: at most 100 names per list, parts among its active parts, every
/// name in its catalog and listed once, no name in both lists, and Excel only for a single
/// contractor (no partner names, at least one own name).
pub fn validate(
    input: &ReportSettingsInput,
    active_parts: &BTreeSet<SurveyPart>,
    catalog: &HashSet<String>,
) -> Result<ReportSettings, Violations> {
    check_list_sizes(input)?;
    let mut violations = Violations::new();
    let parts = parse_key_set("parts", &input.parts, SurveyPart::from_key, &mut violations);
    for (index, key) in input.parts.iter().enumerate() {
        if SurveyPart::from_key(key.trim()).is_some_and(|part| !active_parts.contains(&part)) {
            violations.add(format!("parts[{index}]"), ViolationKind::PartNotActive);
        }
    }
    let mut seen: HashSet<&str> = HashSet::new();
    for (field, names) in [("own_names", &input.own_names), ("partner_names", &input.partner_names)] {
        for (index, name) in names.iter().enumerate() {
            let at = format!("{field}[{index}]");
            if !catalog.contains(name) {
                violations.add(at, ViolationKind::UnknownReference);
            } else if !seen.insert(name) {
                violations.add(at, ViolationKind::Duplicate);
            }
        }
    }
    if input.excel_download && (!input.partner_names.is_empty() || input.own_names.is_empty()) {
        violations.add("excel_download", ViolationKind::ExcelRequiresSingleContractor);
    }
    violations.finish(|| ReportSettings {
        parts,
        own_names: input.own_names.clone(),
        partner_names: input.partner_names.clone(),
        excel_download: input.excel_download,
    })
}

keyed_enum! {
    pub enum ApprovalStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        Superseded = "superseded",
        Cancelled = "cancelled",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalAction {
    Approve,
    Reject,
    Supersede,
    Cancel,
}

/// Only a pending request can be decided, superseded or withdrawn; every other move is refused.
pub fn transition(from: ApprovalStatus, action: ApprovalAction) -> Result<ApprovalStatus, ApprovalStatus> {
    match (from, action) {
        (ApprovalStatus::Pending, ApprovalAction::Approve) => Ok(ApprovalStatus::Approved),
        (ApprovalStatus::Pending, ApprovalAction::Reject) => Ok(ApprovalStatus::Rejected),
        (ApprovalStatus::Pending, ApprovalAction::Supersede) => Ok(ApprovalStatus::Superseded),
        (ApprovalStatus::Pending, ApprovalAction::Cancel) => Ok(ApprovalStatus::Cancelled),
        (other, _) => Err(other),
    }
}

/// What a reviewer is warned about before approving.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// The contractor may download Excel (personal data) where it could not before.
    ExcelNewlyGranted,
    /// It will see results of other contractors it did not see before.
    PartnerNamesAdded(Vec<String>),
    /// An own name that looks unlike the contractor's name: perhaps another company.
    OwnNameUnlikeContractor { name: String, score: f64 },
    /// A partner name that is another contractor's own name: its results are that contractor's.
    PartnerNameOfContractor { name: String, contractor: String },
}

/// Warnings for the GDPR check of a change from `current` (none yet: `None`) to `proposed`.
/// `own_name_holders` names, per partner name, the other contractor whose own name it is.
pub fn warnings(
    current: Option<&ReportSettings>,
    proposed: &ReportSettings,
    contractor_name: &str,
    own_name_holders: &std::collections::HashMap<String, String>,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if proposed.excel_download && !current.is_some_and(|c| c.excel_download) {
        warnings.push(Warning::ExcelNewlyGranted);
    }
    let added: Vec<String> = proposed
        .partner_names
        .iter()
        .filter(|name| !current.is_some_and(|c| c.partner_names.contains(name)))
        .cloned()
        .collect();
    if !added.is_empty() {
        warnings.push(Warning::PartnerNamesAdded(added));
    }
    for name in &proposed.partner_names {
        if let Some(contractor) = own_name_holders.get(name) {
            warnings.push(Warning::PartnerNameOfContractor {
                name: name.clone(),
                contractor: contractor.clone(),
            });
        }
    }
    for name in &proposed.own_names {
        let score = similarity(contractor_name, name);
        if score < LOW_SIMILARITY {
            warnings.push(Warning::OwnNameUnlikeContractor {
                name: name.clone(),
                score,
            });
        }
    }
    warnings
}

impl Warning {
    /// The warning as the reviewer reads it, in Dutch (the API and the review mail share it).
    pub fn dutch_message(&self) -> String {
        match self {
            Warning::ExcelNewlyGranted => "Excel Download (persoonsgegevens) wordt nieuw toegekend.".into(),
            Warning::PartnerNamesAdded(names) => format!(
                "De aannemer gaat resultaten van andere aannemers zien: {}.",
                names.join(", ")
            ),
            Warning::OwnNameUnlikeContractor { name, .. } => {
                format!("Eigen notatie '{name}' lijkt weinig op de naam van de aannemer.")
            }
            Warning::PartnerNameOfContractor { name, contractor } => {
                format!("Partnernotatie '{name}' is de eigen notatie van aannemer {contractor}.")
            }
        }
    }
}

/// The fields a change alters, one Dutch line each ("Excel Download: Nee → Ja"), for the
/// reviewer's mail; fields that stay as they are are left out.
pub fn dutch_changes(current: Option<&ReportSettings>, proposed: &ReportSettings) -> Vec<String> {
    fn names(list: &[String]) -> String {
        if list.is_empty() {
            "(geen)".into()
        } else {
            list.join(", ")
        }
    }
    fn parts(settings: &ReportSettings) -> String {
        let labels: Vec<String> = settings.parts.iter().map(|p| p.dutch_label().to_string()).collect();
        names(&labels)
    }
    let yes_no = |excel: bool| if excel { "Ja" } else { "Nee" }.to_string();
    let none = "(nog niets ingesteld)".to_string();
    let fields = [
        ("Onderdelen", current.map(parts), parts(proposed)),
        (
            "Eigen notaties",
            current.map(|c| names(&c.own_names)),
            names(&proposed.own_names),
        ),
        (
            "Resultaten van andere aannemers",
            current.map(|c| names(&c.partner_names)),
            names(&proposed.partner_names),
        ),
        (
            "Excel Download",
            current.map(|c| yes_no(c.excel_download)),
            yes_no(proposed.excel_download),
        ),
    ];
    fields
        .into_iter()
        .filter(|(_, old, new)| old.as_ref() != Some(new))
        .map(|(label, old, new)| format!("{label}: {} → {new}", old.unwrap_or_else(|| none.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reviewer_reads_only_what_changes_in_dutch() {
        let current = ReportSettings {
            parts: [SurveyPart::Repairs].into_iter().collect(),
            own_names: vec!["Installatietechniek".into()],
            partner_names: vec![],
            excel_download: false,
        };
        let proposed = ReportSettings {
            excel_download: true,
            ..current.clone()
        };
        assert_eq!(
            dutch_changes(Some(&current), &proposed),
            vec!["Excel Download: Nee → Ja"]
        );
        let first = dutch_changes(None, &proposed);
        assert_eq!(first.len(), 4, "{first:?}");
        assert!(first.contains(&"Onderdelen: (nog niets ingesteld) → Reparaties".to_string()));
    }

    fn catalog() -> HashSet<String> {
        [
            "Installatietechniek",
            "installatietechnik",
            "Installatie-techniek",
            "Loodgieter Bakker",
            "Bouwbedrijf Jansen",
        ]
        .into_iter()
        .map(String::from)
        .collect()
    }

    fn active() -> BTreeSet<SurveyPart> {
        BTreeSet::from([SurveyPart::Repairs, SurveyPart::Maintenance])
    }

    fn input(own: &[&str], partners: &[&str], excel: bool) -> ReportSettingsInput {
        ReportSettingsInput {
            parts: vec!["repairs".into()],
            own_names: own.iter().map(|s| s.to_string()).collect(),
            partner_names: partners.iter().map(|s| s.to_string()).collect(),
            excel_download: excel,
        }
    }

    #[test]
    fn a_name_list_holds_at_most_a_hundred_names() {
        let names: Vec<String> = (0..=MAX_NAMES_PER_LIST).map(|n| format!("Aannemer {n}")).collect();
        let catalog: HashSet<String> = names.iter().cloned().collect();
        let full = ReportSettingsInput {
            parts: vec!["repairs".into()],
            own_names: names[..MAX_NAMES_PER_LIST].to_vec(),
            partner_names: vec![],
            excel_download: false,
        };
        assert!(
            validate(&full, &active(), &catalog).is_ok(),
            "exactly the limit is allowed"
        );
        for field in ["own_names", "partner_names"] {
            let mut over = ReportSettingsInput {
                own_names: vec![],
                ..full.clone()
            };
            match field {
                "own_names" => over.own_names = names.clone(),
                _ => over.partner_names = names.clone(),
            }
            let refused = validate(&over, &active(), &catalog).unwrap_err().into_vec();
            assert_eq!(
                refused.len(),
                1,
                "one error for the list, not one per name: {refused:?}"
            );
            assert_eq!(refused[0].field, field);
            assert_eq!(
                refused[0].kind,
                ViolationKind::TooMany {
                    max: MAX_NAMES_PER_LIST
                }
            );
        }
    }

    fn codes(result: Result<ReportSettings, Violations>) -> Vec<(String, &'static str)> {
        result
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| (v.field, v.kind.code()))
            .collect()
    }

    #[test]
    fn the_seed_example_is_valid_without_excel() {
        let settings = validate(
            &input(
                &["Installatietechniek", "installatietechnik", "Installatie-techniek"],
                &["Loodgieter Bakker"],
                false,
            ),
            &active(),
            &catalog(),
        )
        .unwrap();
        assert_eq!(settings.own_names.len(), 3);
    }

    #[test]
    fn excel_only_for_a_single_contractor() {
        assert_eq!(
            codes(validate(
                &input(&["Installatietechniek"], &["Loodgieter Bakker"], true),
                &active(),
                &catalog()
            )),
            vec![(
                "excel_download".to_string(),
                "excel_download_requires_single_contractor"
            )]
        );
        assert_eq!(
            codes(validate(&input(&[], &[], true), &active(), &catalog())),
            vec![(
                "excel_download".to_string(),
                "excel_download_requires_single_contractor"
            )]
        );
        assert!(validate(&input(&["Installatietechniek"], &[], true), &active(), &catalog()).is_ok());
    }

    #[test]
    fn names_must_be_in_the_catalog_once_and_in_one_list() {
        assert_eq!(
            codes(validate(
                &input(
                    &["Onbekend BV", "Installatietechniek", "Installatietechniek"],
                    &["Installatietechniek"],
                    false
                ),
                &active(),
                &catalog()
            )),
            vec![
                ("own_names[0]".to_string(), "unknown_reference"),
                ("own_names[2]".to_string(), "duplicate"),
                ("partner_names[0]".to_string(), "duplicate"),
            ]
        );
    }

    #[test]
    fn parts_must_be_active_for_the_corporation() {
        let mut request = input(&["Installatietechniek"], &[], false);
        request.parts = vec!["repairs".into(), "contact".into(), "nonsense".into()];
        assert_eq!(
            codes(validate(&request, &active(), &catalog())),
            vec![
                ("parts[2]".to_string(), "unknown_value"),
                ("parts[1]".to_string(), "part_not_active")
            ]
        );
    }

    #[test]
    fn only_pending_requests_move() {
        use ApprovalAction::*;
        use ApprovalStatus::*;
        assert_eq!(transition(Pending, Approve), Ok(Approved));
        assert_eq!(transition(Pending, Reject), Ok(Rejected));
        assert_eq!(transition(Pending, Supersede), Ok(Superseded));
        assert_eq!(transition(Pending, Cancel), Ok(Cancelled));
        for from in [Approved, Rejected, Superseded, Cancelled] {
            for action in [Approve, Reject, Supersede, Cancel] {
                assert_eq!(transition(from, action), Err(from));
            }
        }
    }

    #[test]
    fn reviewers_are_warned_about_excel_partners_and_unlike_names() {
        let current = validate(&input(&["Installatietechniek"], &[], false), &active(), &catalog()).unwrap();
        let proposed = validate(
            &input(&["Installatietechniek", "Bouwbedrijf Jansen"], &[], true),
            &active(),
            &catalog(),
        )
        .unwrap();
        let found = warnings(Some(&current), &proposed, "Installatietechniek", &Default::default());
        assert_eq!(found[0], Warning::ExcelNewlyGranted);
        assert!(
            matches!(&found[1], Warning::OwnNameUnlikeContractor { name, score } if name == "Bouwbedrijf Jansen" && *score < LOW_SIMILARITY)
        );
        let with_partner = validate(
            &input(&["Installatietechniek"], &["Loodgieter Bakker"], false),
            &active(),
            &catalog(),
        )
        .unwrap();
        assert_eq!(
            warnings(
                Some(&current),
                &with_partner,
                "Installatietechniek",
                &Default::default()
            ),
            vec![Warning::PartnerNamesAdded(vec!["Loodgieter Bakker".into()])]
        );
        assert!(warnings(Some(&current), &current, "Installatietechniek", &Default::default()).is_empty());
        let holders = [("Loodgieter Bakker".to_string(), "Bakker Loodgieters".to_string())].into();
        assert_eq!(
            warnings(Some(&current), &with_partner, "Installatietechniek", &holders)[1],
            Warning::PartnerNameOfContractor {
                name: "Loodgieter Bakker".into(),
                contractor: "Bakker Loodgieters".into()
            }
        );
    }
}
