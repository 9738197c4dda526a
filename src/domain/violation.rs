//! What is wrong with an input, per field, with a stable code.

/// One invalid field: its name in the request and a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub kind: ViolationKind,
}

/// Why a field is invalid. The HTTP layer turns these into stable codes and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    Required,
    TooLong {
        max: usize,
    },
    TooShort {
        min: usize,
    },
    /// A list with more entries than the rule allows.
    TooMany {
        max: usize,
    },
    InvalidEmail,
    InvalidCorporationCode,
    UnknownValue,
    Duplicate,
    MustNotBeEmpty,
    NotAllowedForUserType,
    ContradictsUserType,
    EmailImmutable,
    Immutable,
    NotAllowed,
    /// Refers to something that does not exist (or is not visible to the caller).
    UnknownReference,
    /// A survey part the corporation does not run.
    PartNotActive,
    /// Rule 8: Excel only for a contractor that sees only its own results.
    ExcelRequiresSingleContractor,
}

impl ViolationKind {
    pub fn code(self) -> &'static str {
        match self {
            ViolationKind::Required => "required",
            ViolationKind::TooLong { .. } => "too_long",
            ViolationKind::TooShort { .. } => "too_short",
            ViolationKind::TooMany { .. } => "too_many",
            ViolationKind::InvalidEmail => "invalid_email",
            ViolationKind::InvalidCorporationCode => "invalid_corporation_code",
            ViolationKind::UnknownValue => "unknown_value",
            ViolationKind::Duplicate => "duplicate",
            ViolationKind::MustNotBeEmpty => "must_not_be_empty",
            ViolationKind::NotAllowedForUserType => "not_allowed_for_user_type",
            ViolationKind::ContradictsUserType => "contradicts_user_type",
            ViolationKind::EmailImmutable => "email_immutable",
            ViolationKind::Immutable => "immutable",
            ViolationKind::NotAllowed => "not_allowed",
            ViolationKind::UnknownReference => "unknown_reference",
            ViolationKind::PartNotActive => "part_not_active",
            ViolationKind::ExcelRequiresSingleContractor => "excel_download_requires_single_contractor",
        }
    }
}

/// Collects every violation of an input, so that a client learns all of them at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    pub fn new() -> Self {
        Violations(Vec::new())
    }

    pub fn add(&mut self, field: impl Into<String>, kind: ViolationKind) {
        self.0.push(Violation {
            field: field.into(),
            kind,
        });
    }

    /// Keeps the value when it parsed, records the violation under `field` when it did not.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, ViolationKind>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(kind) => {
                self.add(field, kind);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Violations> {
        if self.0.is_empty() { Ok(value()) } else { Err(self) }
    }

    pub fn single(field: impl Into<String>, kind: ViolationKind) -> Violations {
        let mut violations = Violations::new();
        violations.add(field, kind);
        violations
    }
}
