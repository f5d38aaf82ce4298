//! [`PodFixture`]: a pod under construction.

use chrono::Duration;

use super::fixture_time;
use crate::snapshot::{Container, Labels, Owner, Pod};

/// A pod under construction.
#[derive(Debug, Clone)]
pub struct PodFixture(pub Pod);

impl PodFixture {
    /// A Running, Ready pod with one container `main`, created an hour before the snapshot.
    pub fn running(namespace: &str, name: &str) -> Self {
        Self(Pod {
            namespace: namespace.into(),
            name: name.into(),
            labels: Labels::default(),
            owner: None,
            created: Some(fixture_time() - Duration::hours(1)),
            deleting: None,
            node_name: Some("n1".into()),
            priority_class: None,
            phase: "Running".into(),
            ready: true,
            unschedulable: None,
            containers: vec![Container {
                name: "main".into(),
                image: "registry.example/main:1".into(),
                ready: true,
                restart_count: 0,
                waiting_reason: None,
                last_terminated_reason: None,
            }],
        })
    }

    /// Sets a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.0.labels = self.0.labels.with(key, value);
        self
    }

    /// Sets the node the pod runs on.
    pub fn on(mut self, node: &str) -> Self {
        self.0.node_name = Some(node.into());
        self
    }

    /// Sets the controlling owner.
    pub fn owned_by(mut self, kind: &str, name: &str) -> Self {
        self.0.owner = Some(Owner { kind: kind.into(), name: name.into() });
        self
    }

    /// Sets the priority class.
    pub fn priority(mut self, class: &str) -> Self {
        self.0.priority_class = Some(class.into());
        self
    }

    /// Sets the image of the first container.
    pub fn image(mut self, image: &str) -> Self {
        if let Some(c) = self.0.containers.first_mut() {
            c.image = image.into();
        }
        self
    }

    /// The container waits with `reason` (`CrashLoopBackOff`) after `restarts` restarts;
    /// the pod is Running but not Ready.
    pub fn waiting(mut self, reason: &str, restarts: i32) -> Self {
        self.0.ready = false;
        if let Some(c) = self.0.containers.first_mut() {
            c.ready = false;
            c.waiting_reason = Some(reason.into());
            c.restart_count = restarts;
        }
        self
    }

    /// Running but not Ready (a failing readiness probe).
    pub fn not_ready(mut self) -> Self {
        self.0.ready = false;
        if let Some(c) = self.0.containers.first_mut() {
            c.ready = false;
        }
        self
    }

    /// Pending and unschedulable, created `age` before the snapshot.
    pub fn pending(mut self, age: Duration) -> Self {
        self.0.phase = "Pending".into();
        self.0.ready = false;
        self.0.node_name = None;
        self.0.created = Some(fixture_time() - age);
        self.0.unschedulable = Some("Unschedulable: 0/3 nodes are available".into());
        for c in &mut self.0.containers {
            c.ready = false;
        }
        self
    }

    /// Completed (a Job's pod).
    pub fn succeeded(mut self) -> Self {
        self.0.phase = "Succeeded".into();
        self.0.ready = false;
        self
    }
}
