// Only types that PostgreSQL and SQLite share: ids and JSON as Text, times as Timestamp (UTC).

diesel::table! {
    corporations (code) {
        code -> Text,
        name -> Text,
        active_parts -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        user_type -> Text,
        corporation_code -> Nullable<Text>,
        contractor_id -> Nullable<Text>,
        first_name -> Text,
        last_name -> Text,
        job_title -> Nullable<Text>,
        phone -> Nullable<Text>,
        remarks -> Nullable<Text>,
        role -> Text,
        access -> Text,
        email_notifications -> Text,
        excel_download -> Bool,
        password_hash -> Nullable<Text>,
        token_version -> Integer,
        last_login_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        external_id -> Nullable<Text>,
        deactivated_at -> Nullable<Timestamp>,
        display_name -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Text>,
        corporation_code -> Nullable<Text>,
        changes -> Text,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        throttle_key -> Text,
        failed_at -> Timestamp,
        account -> Nullable<Text>,
    }
}

diesel::table! {
    sign_in_clients (user_id, client) {
        user_id -> Text,
        client -> Text,
        last_success_at -> Timestamp,
    }
}

diesel::joinable!(sign_in_clients -> users (user_id));

diesel::joinable!(users -> corporations (corporation_code));
diesel::allow_tables_to_appear_in_same_query!(corporations, users, audit_events, login_failures, sign_in_clients);

diesel::table! {
    outbox_messages (id) {
        id -> Text,
        kind -> Text,
        user_id -> Nullable<Text>,
        recipient -> Text,
        payload -> Text,
        message_id -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        delivery_error -> Nullable<Text>,
    }
}

diesel::table! {
    user_tokens (id) {
        id -> Text,
        user_id -> Text,
        purpose -> Text,
        token_hash -> Nullable<Text>,
        outbox_message_id -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(user_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, user_tokens, outbox_messages);

diesel::table! {
    contractors (id) {
        id -> Text,
        corporation_code -> Text,
        name -> Text,
        name_key -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contractor_names (id) {
        id -> Text,
        corporation_code -> Text,
        name -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        seen_count -> Integer,
    }
}

diesel::table! {
    report_settings (contractor_id) {
        contractor_id -> Text,
        parts -> Text,
        own_names -> Text,
        partner_names -> Text,
        excel_download -> Bool,
        version -> Integer,
        approval_id -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    approvals (id) {
        id -> Text,
        contractor_id -> Text,
        corporation_code -> Text,
        status -> Text,
        proposed -> Text,
        based_on_version -> Integer,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    contractor_own_names (corporation_code, name) {
        corporation_code -> Text,
        name -> Text,
        contractor_id -> Text,
    }
}

diesel::joinable!(contractor_own_names -> contractors (contractor_id));
diesel::joinable!(report_settings -> contractors (contractor_id));
diesel::joinable!(users -> contractors (contractor_id));
diesel::joinable!(approvals -> contractors (contractor_id));
diesel::allow_tables_to_appear_in_same_query!(
    contractors,
    contractor_names,
    report_settings,
    approvals,
    users,
    contractor_own_names
);

diesel::table! {
    idempotency_keys (actor, idempotency_key) {
        actor -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        status_code -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        user_id -> Nullable<Text>,
        claim_id -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        name -> Text,
        token_hash -> Text,
        scope -> Text,
        created_by -> Text,
        corporation_code -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        creator_token_version -> Integer,
        invites_new_users -> Bool,
    }
}

diesel::table! {
    rate_limit_windows (subject, window_start) {
        subject -> Text,
        window_start -> Timestamp,
        request_count -> Integer,
    }
}

diesel::table! {
    /// The one row's `cutoff`: audit events older than it may be deleted (retention), no others.
    audit_retention (id) {
        id -> Integer,
        cutoff -> Timestamp,
    }
}
