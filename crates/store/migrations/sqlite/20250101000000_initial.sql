-- postcheck's schema on SQLite. Timestamps are INTEGER microseconds since the Unix epoch
-- (UTC), so that they sort and compare as numbers; documents (spec, status) are JSON text.

CREATE TABLE tasks (
    uid              TEXT    NOT NULL PRIMARY KEY,
    project_id       TEXT    NOT NULL,
    cluster_id       TEXT    NOT NULL,
    spec             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    phase            TEXT    NOT NULL CHECK (phase IN ('Running', 'Success', 'Failed', 'Error')),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    owner            TEXT    NOT NULL,
    lease_expires_at INTEGER NOT NULL
);
-- A cluster's task list, newest first, and its keyset pagination.
CREATE INDEX tasks_by_cluster ON tasks (project_id, cluster_id, created_at DESC, uid DESC);
-- Orphan sweeps and lease renewals only look at running tasks.
CREATE INDEX tasks_running_by_lease ON tasks (lease_expires_at) WHERE phase = 'Running';
CREATE INDEX tasks_running_by_owner ON tasks (owner) WHERE phase = 'Running';

-- One row per cluster being checked: the task holding it, until when.
CREATE TABLE cluster_locks (
    project_id TEXT    NOT NULL,
    cluster_id TEXT    NOT NULL,
    task_uid   TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, cluster_id)
);
CREATE INDEX cluster_locks_by_task ON cluster_locks (task_uid);

CREATE TABLE clusters (
    project_id            TEXT    NOT NULL,
    cluster_id            TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    endpoint              TEXT    NOT NULL,
    encrypted_credentials BLOB    NOT NULL,
    created_at            INTEGER NOT NULL,
    PRIMARY KEY (project_id, cluster_id)
);
CREATE INDEX clusters_by_age ON clusters (created_at, project_id, cluster_id);

-- A registered cluster's baseline goes with it.
CREATE TABLE baselines (
    project_id    TEXT    NOT NULL,
    cluster_id    TEXT    NOT NULL,
    snapshot_json BLOB    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (project_id, cluster_id),
    FOREIGN KEY (project_id, cluster_id) REFERENCES clusters (project_id, cluster_id) ON DELETE CASCADE
);

CREATE TABLE tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    project_id TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE access_keys (
    access_key       TEXT    NOT NULL PRIMARY KEY,
    project_id       TEXT    NOT NULL,
    encrypted_secret BLOB    NOT NULL,
    created_at       INTEGER NOT NULL
);
