-- The sync engine's bookkeeping. Booleans are integers and timestamps Unix seconds, so
-- that the same queries decode the same way on both backends.

-- `synced_run`: the last run that read the record, so a walk that starts again (a scroll
-- after a 500, a run taken over from a dead process) neither counts a record twice nor
-- churns a customer it already saw. `intercom_updated_at`: Intercom's own clock.
alter table customers add column intercom_updated_at integer;
alter table customers add column synced_run integer;
alter table customers add column churned_at integer;
alter table contacts add column intercom_updated_at integer;
alter table contacts add column synced_run integer;
alter table interactions add column intercom_updated_at integer;
alter table interactions add column synced_run integer;
create index customers_synced_run on customers (synced_run);

create table sync_runs (
    id integer primary key autoincrement,
    trigger text not null,
    requested_by text not null,
    -- JSON: the RunRequest as asked.
    request text not null,
    status text not null,
    -- Scheduled runs only: the schedule's slot number. The unique index lets one process
    -- of many insert it, so each slot runs once.
    schedule_slot integer unique,
    claimed_by text,
    heartbeat_at integer,
    queued_at integer not null,
    started_at integer,
    finished_at integer,
    calls integer not null default 0,
    retries integer not null default 0,
    rate_limit_waits integer not null default 0,
    message text
);
create index sync_runs_status on sync_runs (status);

-- One row per object of a run: its counts and its checkpoint, written in the same
-- transaction as each page of records.
create table sync_run_objects (
    run_id integer not null references sync_runs (id),
    object text not null,
    status text not null,
    walk text not null,
    cursor text,
    done integer not null default 0,
    expected integer,
    created integer not null default 0,
    updated integer not null default 0,
    unchanged integer not null default 0,
    churned integer not null default 0,
    failed integer not null default 0,
    -- The highest Intercom `updated_at` this run read, for the next incremental run.
    max_updated_at integer,
    message text,
    -- JSON list of churn entries waiting for confirmation (or found by a dry run).
    churn text,
    primary key (run_id, object)
);

create table sync_failures (
    id integer primary key autoincrement,
    run_id integer not null references sync_runs (id),
    object text not null,
    intercom_id text not null,
    message text not null,
    request_id text,
    failed_at integer not null,
    resolved_at integer
);
create index sync_failures_open on sync_failures (object, resolved_at);

-- Where the next incremental read of each object starts, and when the last full walk ended.
create table sync_cursors (
    object text primary key,
    updated_since integer,
    full_at integer
);
