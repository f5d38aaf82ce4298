//! Issue 10: the service is safe for many tenants. Each file closes one class of attack a
//! tenant with nothing but its own project token could try, across the real HTTP
//! boundary (and, where it says so, the real `postcheck` binary or a real PostgreSQL).

mod connections;
mod endpoints;
mod errors;
mod kubeconfigs;
mod limits;
mod outage;
mod secrets;
mod signing;
mod throttling;
