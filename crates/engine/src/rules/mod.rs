//! Data tables that gathering and judging both read, so that neither depends on the other:
//! [`removed_apis`], the API versions each Kubernetes minor stopped serving.

pub(crate) mod removed_apis;
