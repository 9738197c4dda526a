//! Users: their types, roles, access and notification sets, and the rules that combine them
//! (PRODUCT.md rules 3, 4 and 5).

use std::collections::BTreeSet;

use super::corporation::{CorporationCode, parse_key_set};
use super::keyed::keyed_enum;
use super::violation::{ViolationKind, Violations};

keyed_enum! {
    pub enum UserType {
        /// A colleague at a housing association.
        Corporation = "corporation",
        /// A person at a maintenance partner (aannemer) of one corporation.
        Contractor = "contractor",
        /// KWH staff: belongs to no corporation.
        Kwh = "kwh",
    }
}

keyed_enum! {
    pub enum Role {
        User = "user",
        MainUser = "main_user",
        Contractor = "contractor",
        KwhAdmin = "kwh_admin",
    }
}

keyed_enum! {
    pub enum Access {
        MijnKwh = "mijn_kwh",
        Klantvizier = "klantvizier",
    }
}

keyed_enum! {
    /// What a service token may do besides acting as its creator (SECURITY.md, "Scopes").
    pub enum TokenScope {
        /// Reading what its creator may read.
        Read = "read",
        /// Managing users (create, edit, delete, invite, batch), and reading.
        Provision = "provision",
        /// Provisioning through `/scim/v2` for the one corporation the token is bound to, and
        /// nothing outside it (issue #14).
        Scim = "scim",
    }
}

keyed_enum! {
    pub enum Notification {
        DeliveryReminder = "delivery_reminder",
        ValidationReport = "validation_report",
    }
}

/// What a user is and may do, after rule 3 has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserKind {
    pub user_type: UserType,
    pub role: Role,
    pub corporation_code: Option<CorporationCode>,
    pub contractor_id: Option<String>,
    pub access: BTreeSet<Access>,
    pub email_notifications: BTreeSet<Notification>,
    /// For contractor users always false here: their Excel permission comes from their
    /// contractor's approved report settings, never from the user record.
    pub excel_download: bool,
}

/// The fields of a create or edit request that decide a user's kind; `None` is "not given".
#[derive(Debug, Clone, Default)]
pub struct UserKindInput {
    pub user_type: Option<UserType>,
    pub role: Option<Role>,
    pub corporation_code: Option<CorporationCode>,
    pub contractor_id: Option<String>,
    pub access: Option<Vec<String>>,
    pub email_notifications: Option<Vec<String>>,
    pub excel_download: Option<bool>,
}

/// Applies rule 3: which combinations of type, role, corporation, contractor, access,
/// notifications and Excel permission exist. Every violation is reported, not just the first.
pub fn resolve_kind(input: &UserKindInput) -> Result<UserKind, Violations> {
    let mut violations = Violations::new();
    let user_type = input.user_type.unwrap_or(UserType::Corporation);
    let access = input
        .access
        .as_ref()
        .map(|keys| parse_key_set("access", keys, Access::from_key, &mut violations));
    let notifications = input
        .email_notifications
        .as_ref()
        .map(|keys| parse_key_set("email_notifications", keys, Notification::from_key, &mut violations));

    let kind = match user_type {
        UserType::Corporation => {
            let role = match input.role {
                None => Role::User,
                Some(role @ (Role::User | Role::MainUser)) => role,
                Some(_) => {
                    violations.add("role", ViolationKind::ContradictsUserType);
                    Role::User
                }
            };
            if input.corporation_code.is_none() {
                violations.add("corporation_code", ViolationKind::Required);
            }
            if input.contractor_id.is_some() {
                violations.add("contractor_id", ViolationKind::NotAllowedForUserType);
            }
            // The manual: "Meestal is alleen Klantvizier voldoende".
            let access = access.unwrap_or_else(|| BTreeSet::from([Access::Klantvizier]));
            if access.is_empty() && input.access.as_ref().is_some_and(Vec::is_empty) {
                violations.add("access", ViolationKind::MustNotBeEmpty);
            }
            UserKind {
                user_type,
                role,
                corporation_code: input.corporation_code.clone(),
                contractor_id: None,
                access,
                email_notifications: notifications.unwrap_or_default(),
                excel_download: input.excel_download.unwrap_or(false),
            }
        }
        UserType::Contractor => {
            if input.role.is_some_and(|role| role != Role::Contractor) {
                violations.add("role", ViolationKind::ContradictsUserType);
            }
            if input.contractor_id.is_none() {
                violations.add("contractor_id", ViolationKind::Required);
            }
            if access
                .as_ref()
                .is_some_and(|a| a != &BTreeSet::from([Access::Klantvizier]))
            {
                violations.add("access", ViolationKind::ContradictsUserType);
            }
            if notifications.as_ref().is_some_and(|n| !n.is_empty()) {
                violations.add("email_notifications", ViolationKind::NotAllowedForUserType);
            }
            if input.excel_download.is_some() {
                violations.add("excel_download", ViolationKind::NotAllowedForUserType);
            }
            UserKind {
                user_type,
                role: Role::Contractor,
                corporation_code: input.corporation_code.clone(),
                contractor_id: input.contractor_id.clone(),
                access: BTreeSet::from([Access::Klantvizier]),
                email_notifications: BTreeSet::new(),
                excel_download: false,
            }
        }
        UserType::Kwh => {
            if input.role.is_some_and(|role| role != Role::KwhAdmin) {
                violations.add("role", ViolationKind::ContradictsUserType);
            }
            if input.corporation_code.is_some() {
                violations.add("corporation_code", ViolationKind::NotAllowedForUserType);
            }
            if input.contractor_id.is_some() {
                violations.add("contractor_id", ViolationKind::NotAllowedForUserType);
            }
            UserKind {
                user_type,
                role: Role::KwhAdmin,
                corporation_code: None,
                contractor_id: None,
                access: access.unwrap_or_else(|| BTreeSet::from([Access::MijnKwh, Access::Klantvizier])),
                email_notifications: notifications.unwrap_or_default(),
                excel_download: input.excel_download.unwrap_or(false),
            }
        }
    };
    violations.finish(|| kind)
}

/// Who is acting, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
    pub corporation_code: Option<CorporationCode>,
    /// Set when the request came with a service token of this user: the token is the actor
    /// the audit log names.
    pub via_token: Option<String>,
}

impl Actor {
    /// Who the audit log says acted: the user, or their service token.
    pub fn audit_id(&self) -> String {
        match &self.via_token {
            Some(token) => format!("api_token:{token}"),
            None => self.user_id.clone(),
        }
    }
}

/// Whose users (and corporation data) an actor may manage (rule 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagementScope {
    Everything,
    Corporation(CorporationCode),
}

impl Actor {
    /// `None` for roles that see only themselves (`user`, `contractor`).
    pub fn management_scope(&self) -> Option<ManagementScope> {
        match (self.role, &self.corporation_code) {
            (Role::KwhAdmin, _) => Some(ManagementScope::Everything),
            (Role::MainUser, Some(code)) => Some(ManagementScope::Corporation(code.clone())),
            _ => None,
        }
    }
}

impl ManagementScope {
    /// Whether something of this corporation (or none, for KWH staff) is visible in the scope.
    pub fn includes(&self, corporation_code: Option<&CorporationCode>) -> bool {
        match self {
            ManagementScope::Everything => true,
            ManagementScope::Corporation(own) => corporation_code == Some(own),
        }
    }
}

impl ManagementScope {
    /// The corporation a list is limited to: the requested one within the scope, the own one
    /// for a main user who names none; `None` inside `Some` means every corporation. `None`
    /// when the request names a corporation outside the scope (its list is empty, rule 4).
    pub fn narrow(&self, requested: Option<CorporationCode>) -> Option<Option<CorporationCode>> {
        match (self, requested) {
            (ManagementScope::Everything, requested) => Some(requested),
            (ManagementScope::Corporation(own), Some(code)) if &code != own => None,
            (ManagementScope::Corporation(own), _) => Some(Some(own.clone())),
        }
    }
}

/// Why a change to a user is refused by rule 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockOut {
    /// The change would leave the corporation without an active main user.
    LastMainUser,
    /// Nobody deletes their own account.
    SelfDeletion,
    /// Nobody deactivates their own account.
    SelfDeactivation,
}

/// What rule 5 knows of a user: their role, and whether they are active (not deactivated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub active: bool,
}

impl Standing {
    /// Only an active main user keeps a corporation from being locked out: a deactivated one
    /// cannot sign in to manage anyone.
    pub fn is_active_main_user(self) -> bool {
        self.role == Role::MainUser && self.active
    }
}

/// Rule 5 for a deletion: not oneself, and not the last active main user of a corporation.
/// `other_active_main_users` counts the corporation's active main users besides the target.
pub fn check_deletion(
    actor_id: &str,
    target_id: &str,
    target: Standing,
    other_active_main_users: u64,
) -> Result<(), LockOut> {
    if actor_id == target_id {
        return Err(LockOut::SelfDeletion);
    }
    check_main_user_remains(target, None, other_active_main_users)
}

/// Rule 5 for an edit (a role change, a deactivation or both): nobody deactivates themselves,
/// and the corporation keeps an active main user.
pub fn check_edit(
    actor_id: &str,
    target_id: &str,
    current: Standing,
    new: Standing,
    other_active_main_users: u64,
) -> Result<(), LockOut> {
    if actor_id == target_id && current.active && !new.active {
        return Err(LockOut::SelfDeactivation);
    }
    check_main_user_remains(current, Some(new), other_active_main_users)
}

/// Rule 5: a corporation keeps at least one active main user. `new` is `None` for a deletion.
/// A change to someone who is no active main user (a deactivated one, say) takes nothing away.
pub fn check_main_user_remains(
    current: Standing,
    new: Option<Standing>,
    other_active_main_users: u64,
) -> Result<(), LockOut> {
    let loses_main_user = current.is_active_main_user() && !new.is_some_and(Standing::is_active_main_user);
    if loses_main_user && other_active_main_users == 0 {
        Err(LockOut::LastMainUser)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> Option<CorporationCode> {
        Some(CorporationCode::parse("KWH042").unwrap())
    }

    fn fields(result: Result<UserKind, Violations>) -> Vec<(String, &'static str)> {
        result
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| (v.field, v.kind.code()))
            .collect()
    }

    #[test]
    fn corporation_users_default_to_user_with_klantvizier() {
        let kind = resolve_kind(&UserKindInput {
            corporation_code: code(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(kind.role, Role::User);
        assert_eq!(kind.access, BTreeSet::from([Access::Klantvizier]));
        assert!(kind.email_notifications.is_empty());
        assert!(!kind.excel_download);
    }

    #[test]
    fn corporation_users_need_a_corporation_and_some_access() {
        let input = UserKindInput {
            access: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            fields(resolve_kind(&input)),
            vec![
                ("corporation_code".into(), "required"),
                ("access".into(), "must_not_be_empty")
            ]
        );
    }

    #[test]
    fn corporation_users_cannot_have_contractor_or_admin_roles() {
        for role in [Role::Contractor, Role::KwhAdmin] {
            let input = UserKindInput {
                corporation_code: code(),
                role: Some(role),
                ..Default::default()
            };
            assert_eq!(
                fields(resolve_kind(&input)),
                vec![("role".into(), "contradicts_user_type")]
            );
        }
    }

    #[test]
    fn contractor_users_see_only_klantvizier_and_get_no_mail_or_excel_of_their_own() {
        let input = UserKindInput {
            user_type: Some(UserType::Contractor),
            corporation_code: code(),
            contractor_id: Some("c1".into()),
            ..Default::default()
        };
        let kind = resolve_kind(&input).unwrap();
        assert_eq!(kind.role, Role::Contractor);
        assert_eq!(kind.access, BTreeSet::from([Access::Klantvizier]));

        let bad = UserKindInput {
            role: Some(Role::MainUser),
            access: Some(vec!["mijn_kwh".into()]),
            email_notifications: Some(vec!["delivery_reminder".into()]),
            excel_download: Some(true),
            ..input
        };
        assert_eq!(
            fields(resolve_kind(&bad)),
            vec![
                ("role".into(), "contradicts_user_type"),
                ("access".into(), "contradicts_user_type"),
                ("email_notifications".into(), "not_allowed_for_user_type"),
                ("excel_download".into(), "not_allowed_for_user_type"),
            ]
        );
    }

    #[test]
    fn contractor_users_need_a_contractor() {
        let input = UserKindInput {
            user_type: Some(UserType::Contractor),
            corporation_code: code(),
            ..Default::default()
        };
        assert_eq!(fields(resolve_kind(&input)), vec![("contractor_id".into(), "required")]);
    }

    #[test]
    fn kwh_admins_belong_to_no_corporation() {
        let input = UserKindInput {
            user_type: Some(UserType::Kwh),
            corporation_code: code(),
            ..Default::default()
        };
        assert_eq!(
            fields(resolve_kind(&input)),
            vec![("corporation_code".into(), "not_allowed_for_user_type")]
        );
        let ok = resolve_kind(&UserKindInput {
            user_type: Some(UserType::Kwh),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.role, Role::KwhAdmin);
    }

    #[test]
    fn unknown_and_repeated_access_entries_are_named() {
        let input = UserKindInput {
            corporation_code: code(),
            access: Some(vec!["klantvizier".into(), "klantvizier".into(), "excel".into()]),
            ..Default::default()
        };
        assert_eq!(
            fields(resolve_kind(&input)),
            vec![("access[1]".into(), "duplicate"), ("access[2]".into(), "unknown_value")]
        );
    }

    #[test]
    fn main_users_manage_only_their_own_corporation() {
        let main = Actor {
            user_id: "u".into(),
            role: Role::MainUser,
            corporation_code: code(),
            via_token: None,
        };
        let scope = main.management_scope().unwrap();
        assert!(scope.includes(code().as_ref()));
        assert!(!scope.includes(Some(&CorporationCode::parse("OTHER1").unwrap())));
        assert!(!scope.includes(None));
        let user = Actor {
            role: Role::User,
            ..main.clone()
        };
        assert_eq!(user.management_scope(), None);
        let contractor = Actor {
            role: Role::Contractor,
            ..main
        };
        assert_eq!(contractor.management_scope(), None);
    }

    #[test]
    fn lists_narrow_to_the_scope() {
        let own = CorporationCode::parse("KWH042").unwrap();
        let other = CorporationCode::parse("OTHER1").unwrap();
        let main = ManagementScope::Corporation(own.clone());
        assert_eq!(main.narrow(None), Some(Some(own.clone())));
        assert_eq!(main.narrow(Some(own.clone())), Some(Some(own.clone())));
        assert_eq!(main.narrow(Some(other.clone())), None);
        assert_eq!(ManagementScope::Everything.narrow(None), Some(None));
        assert_eq!(
            ManagementScope::Everything.narrow(Some(other.clone())),
            Some(Some(other))
        );
    }

    const ACTIVE_MAIN: Standing = Standing {
        role: Role::MainUser,
        active: true,
    };
    const DEACTIVATED_MAIN: Standing = Standing {
        role: Role::MainUser,
        active: false,
    };
    const ACTIVE_USER: Standing = Standing {
        role: Role::User,
        active: true,
    };
    const DEACTIVATED_USER: Standing = Standing {
        role: Role::User,
        active: false,
    };

    #[test]
    fn the_last_active_main_user_is_neither_deleted_nor_demoted() {
        assert_eq!(check_deletion("a", "b", ACTIVE_MAIN, 0), Err(LockOut::LastMainUser));
        assert_eq!(check_deletion("a", "b", ACTIVE_MAIN, 1), Ok(()));
        assert_eq!(check_deletion("a", "b", ACTIVE_USER, 0), Ok(()));
        assert_eq!(check_deletion("a", "a", ACTIVE_USER, 5), Err(LockOut::SelfDeletion));
        assert_eq!(
            check_main_user_remains(ACTIVE_MAIN, Some(ACTIVE_USER), 0),
            Err(LockOut::LastMainUser)
        );
        assert_eq!(check_main_user_remains(ACTIVE_MAIN, Some(ACTIVE_MAIN), 0), Ok(()));
        assert_eq!(check_main_user_remains(ACTIVE_USER, Some(ACTIVE_MAIN), 0), Ok(()));
    }

    #[test]
    fn the_last_active_main_user_is_not_deactivated() {
        assert_eq!(
            check_edit("a", "b", ACTIVE_MAIN, DEACTIVATED_MAIN, 0),
            Err(LockOut::LastMainUser)
        );
        assert_eq!(check_edit("a", "b", ACTIVE_MAIN, DEACTIVATED_MAIN, 1), Ok(()));
        // Demoted and deactivated at once is losing a main user all the same.
        assert_eq!(
            check_edit("a", "b", ACTIVE_MAIN, DEACTIVATED_USER, 0),
            Err(LockOut::LastMainUser)
        );
        // An ordinary user may be deactivated whatever the corporation's main users.
        assert_eq!(check_edit("a", "b", ACTIVE_USER, DEACTIVATED_USER, 0), Ok(()));
    }

    #[test]
    fn a_deactivated_main_user_holds_nothing_up() {
        // Counted as no main user: deleting, demoting or reactivating them takes none away.
        assert_eq!(check_deletion("a", "b", DEACTIVATED_MAIN, 0), Ok(()));
        assert_eq!(check_edit("a", "b", DEACTIVATED_MAIN, DEACTIVATED_USER, 0), Ok(()));
        assert_eq!(check_edit("a", "b", DEACTIVATED_MAIN, ACTIVE_MAIN, 0), Ok(()));
    }

    #[test]
    fn nobody_deactivates_themselves() {
        assert_eq!(
            check_edit("a", "a", ACTIVE_MAIN, DEACTIVATED_MAIN, 5),
            Err(LockOut::SelfDeactivation)
        );
        assert_eq!(
            check_edit("a", "a", ACTIVE_USER, DEACTIVATED_USER, 0),
            Err(LockOut::SelfDeactivation)
        );
        // Other edits of oneself are rule 5's ordinary business.
        assert_eq!(check_edit("a", "a", ACTIVE_MAIN, ACTIVE_USER, 1), Ok(()));
        assert_eq!(check_edit("a", "a", ACTIVE_MAIN, ACTIVE_MAIN, 0), Ok(()));
    }
}
