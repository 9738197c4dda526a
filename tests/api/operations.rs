//! What operators run it with: the metrics endpoint, scraped and parsed as Prometheus would.

use std::collections::HashMap;

use serde_json::json;

use crate::for_each_backend;
use crate::helpers::{TestApp, problem};
use crate::invitations::invite;

const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789abcdef";

/// One scrape, parsed by a Prometheus text-format parser.
struct Scrape {
    families: Vec<String>,
    exposition:
        openmetrics_parser::MetricsExposition<openmetrics_parser::PrometheusType, openmetrics_parser::PrometheusValue>,
}

impl Scrape {
    async fn of(client: &reqwest::Client, url: &str, token: Option<&str>) -> Scrape {
        let mut request = client.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
        let body = response.text().await.unwrap();
        let exposition = openmetrics_parser::prometheus::parse_prometheus(&body)
            .unwrap_or_else(|e| panic!("not the Prometheus text format ({e:?}):\n{body}"));
        Scrape {
            families: exposition.families.keys().cloned().collect(),
            exposition,
        }
    }

    /// The value of the sample of `family` with these labels (a histogram's: its count).
    fn value(&self, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
        use openmetrics_parser::PrometheusValue;
        self.exposition.families.get(family)?.iter_samples().find_map(|sample| {
            let set = sample.get_labelset().ok()?;
            if !labels.iter().all(|(k, v)| set.get_label_value(k) == Some(*v)) {
                return None;
            }
            Some(match &sample.value {
                PrometheusValue::Counter(counter) => counter.value.as_f64(),
                PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
                PrometheusValue::Histogram(histogram) => histogram.count.unwrap_or(0) as f64,
                PrometheusValue::Summary(_) => f64::NAN,
            })
        })
    }
}

for_each_backend! {
    async fn the_metrics_listener_shows_requests_pool_outbox_and_sign_ins(backend) {
        // No mail server at this port: invitations stay queued, and age.
        let unreachable = format!("smtp://127.0.0.1:{}", crate::smtp::free_port());
        let mut extra = crate::helpers::smtp_settings(&unreachable);
        extra.push(("METRICS_ADDR", "127.0.0.1:0".into()));
        extra.push(("MAIL_RETRY_BASE_MS", "60000".into()));
        // The sender tries once when the invitation is queued, and polls again only after the
        // scrape: otherwise, once the clock moves past the retry time, a retry may win the race
        // with the scrape and the message is no longer due (seen on CI under load).
        extra.push(("MAIL_POLL_MS", "60000".into()));
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let Some(app) = TestApp::spawn_with(backend, &extra).await else { return };
        let metrics_url = format!("{}/metrics", app.metrics_address.as_deref().unwrap());

        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = app.create_user(&main, json!({"email": "jan@kwh001.example.nl", "first_name": "Jan", "last_name": "Jansen"})).await;
        let id = user["id"].as_str().unwrap();
        for _ in 0..3 {
            assert_eq!(main.get(&format!("/users/{id}")).await.status(), 200);
        }
        assert_eq!(app.get("/no/such/path").send().await.unwrap().status(), 404);
        // Methods no route has count as one label value, however many a client makes up.
        for made_up in ["BREW", "XYZZY1", "XYZZY2"] {
            app.client.request(made_up.parse().unwrap(), app.url("/users")).send().await.unwrap();
        }
        let invited = std::time::Instant::now();
        assert_eq!(invite(&main, id).await.status(), 202);
        for _ in 0..5 {
            assert_eq!(app.login("jan@kwh001.example.nl", "wrong password").await.status(), 401);
        }
        assert_eq!(app.login("jan@kwh001.example.nl", "wrong password").await.status(), 429);
        // The first delivery attempt has failed before the clock moves: from then on the
        // message waits for its retry, and is due once two minutes have passed.
        // Up to 30 s: the whole suite on two cores has been seen to take longer than 10.
        let mut failed_once = false;
        for _ in 0..300 {
            let early = Scrape::of(&app.client, &metrics_url, None).await;
            if early.value("mijnkwh_mail_deliveries_total", &[("outcome", "retry")]).unwrap_or(0.0) >= 1.0 {
                failed_once = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(failed_once, "the first delivery attempt has not failed within 30 s");
        // The sender's own timer (its poll, or the retry's due time in real time) may fire
        // between the clock's move and the scrape and retry the message, which is then not due
        // (seen on CI under the whole suite): the clock moves on again until a scrape sees no
        // retry since the one before. Ten minutes cover the backoff of three failed attempts.
        let retries = |scrape: &Scrape| scrape.value("mijnkwh_mail_deliveries_total", &[("outcome", "retry")]).unwrap_or(0.0);
        let mut moved = chrono::Duration::zero();
        let mut before = retries(&Scrape::of(&app.client, &metrics_url, None).await);
        let scrape = loop {
            app.clock.advance(chrono::Duration::minutes(10));
            moved += chrono::Duration::minutes(10);
            let scrape = Scrape::of(&app.client, &metrics_url, None).await;
            let after = retries(&scrape);
            if after == before {
                break scrape;
            }
            assert!(moved < chrono::Duration::minutes(30), "a retry raced every scrape");
            before = after;
        };
        for family in [
            "mijnkwh_http_requests_total",
            "mijnkwh_http_request_duration_seconds",
            "mijnkwh_db_pool_connections",
            "mijnkwh_db_pool_max_connections",
            "mijnkwh_db_pool_waiting",
            "mijnkwh_outbox_messages",
            "mijnkwh_outbox_oldest_due_message_age_seconds",
            "mijnkwh_mail_deliveries_total",
            "mijnkwh_sign_ins_total",
        ] {
            assert!(scrape.families.iter().any(|f| f == family), "{family} missing from {:?}", scrape.families);
        }
        let by_route = |route: &str, status: &str| {
            scrape.value("mijnkwh_http_requests_total", &[("method", "GET"), ("route", route), ("status", status)])
        };
        assert_eq!(by_route("/users/{id}", "200"), Some(3.0), "counted by route template, not by path");
        assert_eq!(by_route("unmatched", "404"), Some(1.0));
        let methods: std::collections::BTreeSet<String> = scrape.exposition.families["mijnkwh_http_requests_total"]
            .iter_samples()
            .filter_map(|s| s.get_labelset().ok()?.get_label_value("method").map(str::to_string))
            .collect();
        assert!(methods.contains("other") && !methods.iter().any(|m| m.starts_with("XYZZY") || m == "BREW"), "{methods:?}");
        assert_eq!(
            scrape.value("mijnkwh_http_request_duration_seconds", &[("route", "/users/{id}"), ("status", "200")]),
            Some(3.0),
            "three latencies observed"
        );
        assert_eq!(scrape.value("mijnkwh_sign_ins_total", &[("outcome", "failed")]), Some(5.0));
        assert_eq!(scrape.value("mijnkwh_sign_ins_total", &[("outcome", "throttled")]), Some(1.0));
        assert_eq!(scrape.value("mijnkwh_outbox_messages", &[("state", "queued")]), Some(1.0));
        assert_eq!(scrape.value("mijnkwh_outbox_messages", &[("state", "failed")]), Some(0.0));
        let age = scrape.value("mijnkwh_outbox_oldest_due_message_age_seconds", &[]).unwrap();
        let waited = moved.num_seconds() as f64;
        let real = invited.elapsed().as_secs_f64() + 1.0;
        assert!((waited..waited + real).contains(&age), "the invitation has waited {waited} s on the clock and {real} s in fact: {age}");
        assert!(scrape.value("mijnkwh_mail_deliveries_total", &[("outcome", "retry")]).unwrap() >= 1.0);
        assert_eq!(scrape.value("mijnkwh_db_pool_max_connections", &[]), Some(4.0));
        assert!(scrape.value("mijnkwh_db_pool_connections", &[("state", "idle")]).is_some());

        // The public listener has no metrics unless METRICS_TOKEN is set.
        assert_eq!(app.get("/metrics").send().await.unwrap().status(), 404);
    }

    async fn metrics_on_the_main_listener_need_the_metrics_token(backend) {
        let Some(app) = TestApp::spawn_with(backend, &[("METRICS_TOKEN", METRICS_TOKEN)]).await else { return };
        assert!(app.metrics_address.is_none());
        let admin = app.admin().await;
        problem(app.get("/metrics").send().await.unwrap(), 401).await;
        problem(admin.get("/metrics").await, 401).await;
        let lowercase = app.get("/metrics").header("Authorization", format!("bearer {METRICS_TOKEN}")).send().await.unwrap();
        assert_eq!(lowercase.status(), 200, "the scheme in any case, as everywhere in the API");
        let scrape = Scrape::of(&app.client, &app.url("/metrics"), Some(METRICS_TOKEN)).await;
        let logins: HashMap<&str, f64> = ["succeeded", "failed"]
            .into_iter()
            .filter_map(|o| scrape.value("mijnkwh_sign_ins_total", &[("outcome", o)]).map(|v| (o, v)))
            .collect();
        assert_eq!(logins.get("succeeded"), Some(&1.0), "{logins:?}");
        let document: serde_json::Value = app.get("/openapi.json").send().await.unwrap().json().await.unwrap();
        assert!(document["paths"].get("/metrics").is_none(), "not part of the public API");
    }
}
