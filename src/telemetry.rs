//! Structured logs through `tracing`, filtered by `RUST_LOG`: lines for people by default, one
//! JSON object per line with `LOG_FORMAT=json` for log shippers.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls (in tests) are ignored.
/// Logs go to standard error; standard output is for what the person starting it reads.
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // The request span's fields (request id, method, target, status) go with each event.
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
}
