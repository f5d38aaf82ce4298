//! The service's API tests: each spawns real servers on port 0 (SQLite in a temporary
//! folder unless a test says otherwise) and talks HTTP to them. One file per feature.
//!
//! Tests that need PostgreSQL, the built `postcheck` binary or the Kubernetes control
//! plane are `#[ignore]`d so a plain `cargo test` stays fast; `scripts/test` runs them and
//! they fail loudly when what they need is missing.

mod helpers;

mod auth;
mod autopilot;
mod baseline;
mod clusters;
mod fuzz;
mod postcheck;
mod precheck;
mod recovery;
mod replicas;
mod report;
mod revocation;
mod security;
mod tasks;
mod tenancy;
mod tls;
mod transport;
mod validation;
