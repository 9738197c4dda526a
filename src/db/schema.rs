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
