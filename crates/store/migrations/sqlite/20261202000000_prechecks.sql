-- Pre-check tasks (CCE's PreCheckTask), in their own table: a post-check task ID is never
-- found as a pre-check one. The same columns as `tasks`; the phase adds `Init`.
CREATE TABLE precheck_tasks (
    uid              TEXT    NOT NULL PRIMARY KEY,
    project_id       TEXT    NOT NULL,
    cluster_id       TEXT    NOT NULL,
    spec             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    phase            TEXT    NOT NULL CHECK (phase IN ('Init', 'Running', 'Success', 'Failed', 'Error')),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    owner            TEXT    NOT NULL,
    lease_expires_at INTEGER NOT NULL
);
CREATE INDEX precheck_tasks_by_cluster ON precheck_tasks (project_id, cluster_id, created_at DESC, uid DESC);
CREATE INDEX precheck_tasks_unfinished_by_lease ON precheck_tasks (lease_expires_at) WHERE phase IN ('Init', 'Running');
CREATE INDEX precheck_tasks_unfinished_by_owner ON precheck_tasks (owner) WHERE phase IN ('Init', 'Running');

-- Where a baseline came from: when its Snapshot was taken (older rows: when stored) and
-- the pre-check task that recorded it (none for one stored or taken on demand).
ALTER TABLE baselines ADD COLUMN taken_at INTEGER;
ALTER TABLE baselines ADD COLUMN precheck_task_uid TEXT;
