//! The floor for `POST /auth/login`: how many argon2id verifications per second this machine
//! does on all its cores with the service's own parameters (bench/run.sh compares login to it).
//!
//! Usage: cargo run --release --example argon2_floor -- [seconds, default 10]

use std::time::{Duration, Instant};

use mijnkwh::auth::password;

fn main() {
    let seconds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let stored = password::hash("bench-wachtwoord-123").expect("hash");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let verified: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut count = 0;
                    while Instant::now() < deadline {
                        assert!(password::verify("bench-wachtwoord-123", Some(&stored)));
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    println!("{:.1}", verified as f64 / started.elapsed().as_secs_f64());
}
