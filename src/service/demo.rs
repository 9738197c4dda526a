//! `serve --demo`: a demo corporation with a main user and colleagues, to try the API in
//! Swagger UI within a minute. Seeding twice changes nothing.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;

use crate::auth::password;
use crate::db::rows::CorporationRow;
use crate::db::{DbConn, corporations as corporation_store, users as user_store, write_transaction};
use crate::domain::corporation::{CorporationCode, SurveyPart};
use crate::domain::email::EmailAddress;
use crate::domain::report_settings::ReportSettingsInput;
use crate::domain::user::{Actor, Role, UserKindInput, UserType, resolve_kind};
use crate::service::users::{NewUser, Profile, new_row};

pub const DEMO_CORPORATION: &str = "DEMO01";
pub const DEMO_MAIN_USER: &str = "hoofdgebruiker@demo.example.nl";

/// The demo's sign-in, to print; `None` when the demo was seeded before.
pub struct DemoLogin {
    pub email: &'static str,
    pub password: String,
}

struct DemoUser {
    email: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    job_title: Option<&'static str>,
    role: &'static str,
    access: &'static [&'static str],
    notifications: &'static [&'static str],
    excel: bool,
}

const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        email: DEMO_MAIN_USER,
        first_name: "Hanneke",
        last_name: "de Hoofdgebruiker",
        job_title: Some("Beleidsmedewerker klanttevredenheid"),
        role: "main_user",
        access: &["mijn_kwh", "klantvizier"],
        notifications: &["delivery_reminder", "validation_report"],
        excel: true,
    },
    DemoUser {
        email: "jan.jansen@demo.example.nl",
        first_name: "Jan",
        last_name: "Jansen",
        job_title: Some("Medewerker onderhoud"),
        role: "user",
        access: &["klantvizier"],
        notifications: &[],
        excel: false,
    },
    DemoUser {
        email: "zoe.mueller@demo.example.nl",
        first_name: "Zoë",
        last_name: "Müller-Lüdenscheidt",
        job_title: Some("Data-analist"),
        role: "user",
        access: &["mijn_kwh", "klantvizier"],
        notifications: &["delivery_reminder", "validation_report"],
        excel: false,
    },
    DemoUser {
        email: "p.oneill@demo.example.nl",
        first_name: "Patrick",
        last_name: "O'Neill",
        job_title: None,
        role: "user",
        access: &["mijn_kwh"],
        notifications: &["validation_report"],
        excel: false,
    },
];

/// The seed's own example: contractor Installatietechniek with a user, the catalog with its
/// spellings, a subcontractor and an unrelated company, and a change waiting for KWH.
fn seed_contractor(conn: &mut DbConn, code: &CorporationCode, now: NaiveDateTime) -> anyhow::Result<()> {
    let api = |e: crate::error::AppError| anyhow::anyhow!("seeding the demo contractor failed: {e}");
    let main = user_store::find_by_email(conn, DEMO_MAIN_USER)?.ok_or_else(|| anyhow::anyhow!("demo main user"))?;
    let actor = Actor {
        user_id: main.id.clone(),
        role: Role::MainUser,
        corporation_code: Some(code.clone()),
        via_token: None,
    };
    let contractor = super::contractors::create(conn, &actor, None, "Installatietechniek".into(), now).map_err(api)?;
    let kind = resolve_kind(&UserKindInput {
        user_type: Some(UserType::Contractor),
        corporation_code: Some(code.clone()),
        contractor_id: Some(contractor.id.clone()),
        ..Default::default()
    })
    .map_err(|v| anyhow::anyhow!("demo contractor user is invalid: {v:?}"))?;
    let henk = NewUser {
        email: EmailAddress::parse("henk@installatietechniek.example.nl").map_err(|_| anyhow::anyhow!("demo email"))?,
        profile: Profile {
            first_name: "Henk".into(),
            last_name: "Monteur".into(),
            job_title: None,
            phone: None,
            remarks: None,
        },
        kind,
    };
    let creation = super::users::Creation::with_external_id(None);
    super::users::create(conn, &actor, henk, creation, chrono::Duration::days(7), now).map_err(api)?;
    let names: Vec<String> = [
        "Installatietechniek",
        "installatietechnik",
        "Installatie-techniek",
        "Installatietechniek B.V.",
        "Loodgieter Bakker",
        "Bouwbedrijf Jansen",
        "Fa. Jansen BV",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    super::catalog::record(conn, &actor, code, &names, now).map_err(api)?;
    let change = ReportSettingsInput {
        parts: vec!["repairs".into(), "maintenance".into()],
        own_names: names[..4].to_vec(),
        partner_names: vec![],
        excel_download: true,
    };
    super::report_settings::request(conn, &actor, &contractor.id, change, None, now).map_err(api)?;
    Ok(())
}

pub fn seed(conn: &mut DbConn, now: NaiveDateTime) -> anyhow::Result<Option<DemoLogin>> {
    if corporation_store::find(conn, DEMO_CORPORATION)?.is_some() {
        return Ok(None);
    }
    let password = crate::auth::token::random_token()[..16].to_string();
    let password_hash = password::hash(&password)?;
    let code = CorporationCode::parse(DEMO_CORPORATION).map_err(|_| anyhow::anyhow!("demo code"))?;
    let parts: BTreeSet<SurveyPart> = [
        SurveyPart::NewTenants,
        SurveyPart::Repairs,
        SurveyPart::Maintenance,
        SurveyPart::Contact,
    ]
    .into();
    write_transaction(conn, |conn| {
        corporation_store::insert(
            conn,
            &CorporationRow {
                code: DEMO_CORPORATION.into(),
                name: "Woonstichting Demo".into(),
                active_parts: crate::db::rows::keys_to_json(parts.iter().map(|p| p.key())),
                created_at: now,
                updated_at: now,
            },
        )
        .map_err(|_| anyhow::anyhow!("cannot create the demo corporation"))?;
        for user in DEMO_USERS {
            let kind = resolve_kind(&UserKindInput {
                corporation_code: Some(code.clone()),
                role: crate::domain::user::Role::from_key(user.role),
                access: Some(user.access.iter().map(|s| s.to_string()).collect()),
                email_notifications: Some(user.notifications.iter().map(|s| s.to_string()).collect()),
                excel_download: Some(user.excel),
                ..Default::default()
            })
            .map_err(|v| anyhow::anyhow!("demo user is invalid: {v:?}"))?;
            let email = EmailAddress::parse(user.email).map_err(|_| anyhow::anyhow!("demo email"))?;
            let profile = Profile {
                first_name: user.first_name.into(),
                last_name: user.last_name.into(),
                job_title: user.job_title.map(Into::into),
                phone: None,
                remarks: None,
            };
            let mut row = new_row(&NewUser { email, profile, kind }, now);
            if user.email == DEMO_MAIN_USER {
                row.password_hash = Some(password_hash.clone());
            }
            user_store::insert(conn, &row).map_err(|_| anyhow::anyhow!("cannot create demo user {}", user.email))?;
        }
        anyhow::Ok(())
    })?;
    seed_contractor(conn, &code, now)?;
    Ok(Some(DemoLogin {
        email: DEMO_MAIN_USER,
        password,
    }))
}
