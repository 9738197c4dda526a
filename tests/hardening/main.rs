//! Hardening (issue #6): hostile input, a crash in the middle of write load, and sustained
//! mixed load followed by a consistency check. Its own test binary, so that the load runs
//! after the functional suite instead of competing with it for the cores.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod crash;
mod hostile;
mod load;
