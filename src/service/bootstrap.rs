//! The first kwh_admin: created on a start that finds none, so a fresh install can sign in.

use chrono::NaiveDateTime;

use crate::auth::{password, token::random_token};
use crate::config::AdminBootstrap;
use crate::db::{DbConn, users, write_transaction};
use crate::domain::email::EmailAddress;
use crate::domain::user::{UserKindInput, UserType, resolve_kind};
use crate::service::users::{NewUser, Profile, new_row};

pub const DEFAULT_ADMIN_EMAIL: &str = "admin@localhost";

/// A kwh_admin that was just created, with the password to print once when it was generated.
pub struct CreatedAdmin {
    pub email: String,
    pub generated_password: Option<String>,
}

/// Creates the configured (or a default) kwh_admin when there is none.
pub fn ensure_admin(
    conn: &mut DbConn,
    config: &AdminBootstrap,
    now: NaiveDateTime,
) -> anyhow::Result<Option<CreatedAdmin>> {
    if users::any_kwh_admin(conn)? {
        return Ok(None);
    }
    let (email, password, generated) = match (&config.email, &config.password) {
        (Some(email), Some(password)) => (email.clone(), password.expose().to_string(), false),
        _ => (DEFAULT_ADMIN_EMAIL.to_string(), random_token(), true),
    };
    create_admin(conn, &email, &password, now)?;
    Ok(Some(CreatedAdmin {
        email,
        generated_password: generated.then_some(password),
    }))
}

pub fn create_admin(conn: &mut DbConn, email: &str, password: &str, now: NaiveDateTime) -> anyhow::Result<()> {
    let email =
        EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("KWH_ADMIN_EMAIL is not usable: {}", e.code()))?;
    password::check_policy(password, email.as_str())
        .map_err(|e| anyhow::anyhow!("KWH_ADMIN_PASSWORD is not usable: {} (10 to 128 characters)", e.code()))?;
    let kind = resolve_kind(&UserKindInput {
        user_type: Some(UserType::Kwh),
        ..Default::default()
    })
    .map_err(|_| anyhow::anyhow!("a kwh_admin is a valid kind"))?;
    let profile = Profile {
        first_name: "KWH".into(),
        last_name: "Beheerder".into(),
        job_title: None,
        phone: None,
        remarks: None,
    };
    let mut row = new_row(&NewUser { email, profile, kind }, now);
    row.password_hash = Some(password::hash(password)?);
    write_transaction(conn, |conn| {
        users::insert(conn, &row).map_err(|e| match e {
            users::InsertUserError::EmailTaken => anyhow::anyhow!("a user with this email address exists already"),
            users::InsertUserError::ExternalIdTaken => anyhow::anyhow!("external id taken"),
            users::InsertUserError::ContractorGone => anyhow::anyhow!("the contractor does not exist"),
            users::InsertUserError::Database(e) => e.into(),
        })?;
        crate::service::audit::record(
            conn,
            crate::service::audit::AuditEntry {
                actor_id: None,
                action: "user.created",
                target_type: "user",
                target_id: Some(&row.id),
                corporation_code: None,
                changes: serde_json::Map::from_iter([("role".to_string(), "kwh_admin".into())]),
            },
            now,
        )?;
        Ok(())
    })
}
