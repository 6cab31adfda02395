-- Skalin workspaces: one per Skalin customer, each with its own people (by membership, a
-- role in each), Intercom connection, settings, records, runs and history. Every table of
-- workspace data carries its workspace, and what was unique is unique per workspace.
--
-- What the deployment held before goes into one workspace, "Default", created only when
-- there is something to keep; its users become its members with the role they had.
--
-- SQLite cannot change a table's constraints in place and runs this in a transaction,
-- where foreign keys cannot be switched off: each table is copied aside, the old ones are
-- dropped children first, and the new ones filled again parents first, ids kept.
create table workspaces (
    id integer primary key autoincrement,
    name text not null,
    slug text not null unique,
    created_at integer not null
);

create table memberships (
    workspace_id integer not null references workspaces (id),
    user_id integer not null references users (id),
    role text not null check (role in ('admin', 'member')),
    primary key (workspace_id, user_id)
);
create index memberships_user_id on memberships (user_id);

insert into workspaces (name, slug, created_at)
select 'Default', 'default', cast(strftime('%s', 'now') as integer)
where exists (select 1 from users) or exists (select 1 from customers) or exists (select 1 from contacts)
   or exists (select 1 from interactions) or exists (select 1 from intercom_connections)
   or exists (select 1 from integration_settings) or exists (select 1 from settings_changes)
   or exists (select 1 from sync_runs);

insert into memberships (workspace_id, user_id, role)
select w.id, u.id, u.role from users u, workspaces w where w.slug = 'default';

alter table users drop column role;

create table copy_customers as select * from customers;
create table copy_contacts as select * from contacts;
create table copy_interactions as select * from interactions;
create table copy_connections as select * from intercom_connections;
create table copy_settings as select * from integration_settings;
create table copy_changes as select * from settings_changes;
create table copy_runs as select * from sync_runs;
create table copy_run_objects as select * from sync_run_objects;
create table copy_failures as select * from sync_failures;
create table copy_cursors as select * from sync_cursors;
create table copy_outbox as select * from sync_outbox;

drop table sync_outbox;
drop table sync_cursors;
drop table sync_failures;
drop table sync_run_objects;
drop table sync_runs;
drop table settings_changes;
drop table integration_settings;
drop table intercom_connections;
drop table interactions;
drop table contacts;
drop table customers;

create table customers (
    id integer primary key autoincrement,
    workspace_id integer not null references workspaces (id),
    external_id text not null,
    intercom_id text,
    name text not null,
    domain text,
    csm_owner text,
    stage text,
    profile text,
    updated_at integer not null,
    intercom_updated_at integer,
    synced_run integer,
    churned_at integer,
    health_score integer,
    csm_pulse text,
    unique (workspace_id, external_id),
    unique (workspace_id, intercom_id)
);
create index customers_synced_run on customers (workspace_id, synced_run);
create index customers_name on customers (workspace_id, lower(name), id);

create table contacts (
    id integer primary key autoincrement,
    workspace_id integer not null references workspaces (id),
    external_id text not null,
    intercom_id text,
    name text not null,
    email text,
    customer_id integer references customers (id),
    role_tag text,
    updated_at integer not null,
    intercom_updated_at integer,
    synced_run integer,
    unique (workspace_id, external_id),
    unique (workspace_id, intercom_id)
);
create index contacts_customer_id on contacts (customer_id);
create index contacts_name on contacts (workspace_id, lower(name), id);

create table interactions (
    id integer primary key autoincrement,
    workspace_id integer not null references workspaces (id),
    intercom_id text,
    title text not null,
    state text,
    contact_id integer references contacts (id),
    customer_id integer references customers (id),
    created_at integer not null,
    intercom_updated_at integer,
    synced_run integer,
    unique (workspace_id, intercom_id)
);
create index interactions_created_at on interactions (workspace_id, created_at);

-- One Intercom workspace (its app id) is connected to one Skalin workspace at a time:
-- webhooks are routed by it.
create table intercom_connections (
    workspace_id integer primary key references workspaces (id),
    zone text not null check (zone in ('us', 'eu', 'au')),
    token_nonce blob,
    token_ciphertext blob,
    workspace_name text,
    app_id text unique,
    connected_by text,
    connected_at integer not null,
    needs_reconnect boolean not null default false,
    detected_zone text check (detected_zone in ('us', 'eu', 'au'))
);

create table integration_settings (
    workspace_id integer primary key references workspaces (id),
    document text not null,
    updated_at integer not null,
    updated_by text not null
);

create table settings_changes (
    id integer primary key autoincrement,
    workspace_id integer not null references workspaces (id),
    changed_at integer not null,
    changed_by text not null,
    summary text not null
);
create index settings_changes_changed_at on settings_changes (workspace_id, changed_at);

create table sync_runs (
    id integer primary key autoincrement,
    workspace_id integer not null references workspaces (id),
    trigger text not null,
    requested_by text not null,
    request text not null,
    status text not null,
    schedule_slot integer,
    claimed_by text,
    heartbeat_at integer,
    queued_at integer not null,
    started_at integer,
    finished_at integer,
    calls integer not null default 0,
    retries integer not null default 0,
    rate_limit_waits integer not null default 0,
    message text,
    unique (workspace_id, schedule_slot)
);
create index sync_runs_status on sync_runs (status);
create index sync_runs_workspace on sync_runs (workspace_id, id);
-- At most one active run per workspace.
create unique index sync_runs_one_active on sync_runs (workspace_id) where status in ('queued', 'running');

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
    max_updated_at integer,
    message text,
    churn text,
    primary key (run_id, object)
);

create table sync_failures (
    id integer primary key autoincrement,
    workspace_id integer not null references workspaces (id),
    run_id integer not null references sync_runs (id),
    object text not null,
    intercom_id text not null,
    message text not null,
    request_id text,
    failed_at integer not null,
    resolved_at integer
);
create index sync_failures_open on sync_failures (workspace_id, object, resolved_at);
create index sync_failures_run on sync_failures (run_id);

create table sync_cursors (
    workspace_id integer not null references workspaces (id),
    object text not null,
    updated_since integer,
    full_at integer,
    primary key (workspace_id, object)
);

-- Record ids are unique across workspaces, so the key stays; the workspace scopes reads.
create table sync_outbox (
    workspace_id integer not null references workspaces (id),
    object text not null,
    record_id integer not null,
    field text not null,
    value text,
    base text,
    changed_at integer not null,
    changed_by text not null,
    primary key (object, record_id, field)
);
create index sync_outbox_workspace on sync_outbox (workspace_id, object);

insert into customers (id, workspace_id, external_id, intercom_id, name, domain, csm_owner, stage, profile,
                       updated_at, intercom_updated_at, synced_run, churned_at, health_score, csm_pulse)
select id, (select id from workspaces where slug = 'default'), external_id, intercom_id, name, domain, csm_owner,
       stage, profile, updated_at, intercom_updated_at, synced_run, churned_at, health_score, csm_pulse
from copy_customers;

insert into contacts (id, workspace_id, external_id, intercom_id, name, email, customer_id, role_tag, updated_at,
                      intercom_updated_at, synced_run)
select id, (select id from workspaces where slug = 'default'), external_id, intercom_id, name, email, customer_id,
       role_tag, updated_at, intercom_updated_at, synced_run
from copy_contacts;

insert into interactions (id, workspace_id, intercom_id, title, state, contact_id, customer_id, created_at,
                          intercom_updated_at, synced_run)
select id, (select id from workspaces where slug = 'default'), intercom_id, title, state, contact_id, customer_id,
       created_at, intercom_updated_at, synced_run
from copy_interactions;

insert into intercom_connections (workspace_id, zone, token_nonce, token_ciphertext, workspace_name, app_id,
                                  connected_by, connected_at, needs_reconnect, detected_zone)
select (select id from workspaces where slug = 'default'), zone, token_nonce, token_ciphertext, workspace_name,
       app_id, connected_by, connected_at, needs_reconnect, detected_zone
from copy_connections;

insert into integration_settings (workspace_id, document, updated_at, updated_by)
select (select id from workspaces where slug = 'default'), document, updated_at, updated_by from copy_settings;

insert into settings_changes (id, workspace_id, changed_at, changed_by, summary)
select id, (select id from workspaces where slug = 'default'), changed_at, changed_by, summary from copy_changes;

insert into sync_runs (id, workspace_id, trigger, requested_by, request, status, schedule_slot, claimed_by,
                       heartbeat_at, queued_at, started_at, finished_at, calls, retries, rate_limit_waits, message)
select id, (select id from workspaces where slug = 'default'), trigger, requested_by, request, status,
       schedule_slot, claimed_by, heartbeat_at, queued_at, started_at, finished_at, calls, retries,
       rate_limit_waits, message
from copy_runs;

insert into sync_run_objects (run_id, object, status, walk, cursor, done, expected, created, updated, unchanged,
                              churned, failed, max_updated_at, message, churn)
select run_id, object, status, walk, cursor, done, expected, created, updated, unchanged, churned, failed,
       max_updated_at, message, churn
from copy_run_objects;

insert into sync_failures (id, workspace_id, run_id, object, intercom_id, message, request_id, failed_at,
                           resolved_at)
select id, (select id from workspaces where slug = 'default'), run_id, object, intercom_id, message, request_id,
       failed_at, resolved_at
from copy_failures;

insert into sync_cursors (workspace_id, object, updated_since, full_at)
select (select id from workspaces where slug = 'default'), object, updated_since, full_at from copy_cursors;

insert into sync_outbox (workspace_id, object, record_id, field, value, base, changed_at, changed_by)
select (select id from workspaces where slug = 'default'), object, record_id, field, value, base, changed_at,
       changed_by
from copy_outbox;

drop table copy_customers;
drop table copy_contacts;
drop table copy_interactions;
drop table copy_connections;
drop table copy_settings;
drop table copy_changes;
drop table copy_runs;
drop table copy_run_objects;
drop table copy_failures;
drop table copy_cursors;
drop table copy_outbox;
