//! Wire types that every part of postcheck speaks.
//!
//! The service answers CCE's v3 post-upgrade check API with these types, the command line
//! prints them with `-o json|yaml`, and the engine fills them in. Keeping them in one small
//! crate means the JSON a pipeline parses from `postcheck check -o json` is exactly the task
//! document the API returns.
//!
//! - [`version`]: CCE and Kubernetes version strings (`v1.19.16-r80`, `v1.30.4-eks-a737599`).
//! - [`item`]: one check item of a report, CCE's item fields plus evidence.
//! - [`task`]: the `PostCheckTask` request and response documents, and list pages.
//! - [`precheck`]: the `PreCheckTask` documents of CCE's pre-upgrade check.
//! - [`baseline`]: which baseline a task was judged against, and blame's counts.

pub mod baseline;
pub mod item;
pub mod precheck;
pub mod task;
pub mod version;

pub use baseline::{BaselineRef, BaselineSource, BlameCounts, ResolvedFinding};
pub use item::{Blame, CheckItem, Evidence, ItemGroup, ItemKind, ItemPhase, Level};
pub use precheck::{
    AddonRisk, ConfigurationRisk, DeprecatedApiRisk, ItemsCheckStatus, NodeCheckStatus, NodeInfo,
    NodeRisk, NodeStageStatus, PRECHECK_KIND, PreCheckItemStatus, PreCheckRequest, PreCheckTask,
    PreCheckTaskList, PrecheckPhase, PrecheckSpec, PrecheckStatus, ResourceSelector, RiskSource,
    SkippedCheckItem,
};
pub use task::{
    API_VERSION, KIND, PostCheckRequest, PostCheckSpec, PostCheckTask, TaskList, TaskMetadata,
    TaskPhase, TaskStatus,
};
pub use version::{ParseVersionError, Version};
