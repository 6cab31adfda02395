-- Skalin workspaces: one per Skalin customer, each with its own people (by membership, a
-- role in each), Intercom connection, settings, records, runs and history. Every table of
-- workspace data carries its workspace, and what was unique is unique per workspace.
--
-- What the deployment held before goes into one workspace, "Default", created only when
-- there is something to keep; its users become its members with the role they had.
create table workspaces (
    id bigint generated always as identity primary key,
    name text not null,
    slug text not null unique,
    created_at bigint not null
);

create table memberships (
    workspace_id bigint not null references workspaces (id),
    user_id bigint not null references users (id),
    role text not null check (role in ('admin', 'member')),
    primary key (workspace_id, user_id)
);
create index memberships_user_id on memberships (user_id);

insert into workspaces (name, slug, created_at)
select 'Default', 'default', extract(epoch from now())::bigint
where exists (select 1 from users) or exists (select 1 from customers) or exists (select 1 from contacts)
   or exists (select 1 from interactions) or exists (select 1 from intercom_connections)
   or exists (select 1 from integration_settings) or exists (select 1 from settings_changes)
   or exists (select 1 from sync_runs);

insert into memberships (workspace_id, user_id, role)
select w.id, u.id, u.role from users u, workspaces w where w.slug = 'default';

alter table users drop column role;

-- Adds `workspace_id` to a table, fills it with the default workspace, and makes it required.
create function pg_temp.add_workspace(tbl text) returns void as $$
begin
    execute format('alter table %I add column workspace_id bigint references workspaces (id)', tbl);
    execute format('update %I set workspace_id = (select id from workspaces where slug = %L)', tbl, 'default');
    execute format('alter table %I alter column workspace_id set not null', tbl);
end
$$ language plpgsql;

select pg_temp.add_workspace(t) from unnest(array[
    'customers', 'contacts', 'interactions', 'intercom_connections', 'integration_settings',
    'settings_changes', 'sync_runs', 'sync_failures', 'sync_cursors', 'sync_outbox'
]) as t;

alter table customers drop constraint customers_external_id_key;
alter table customers drop constraint customers_intercom_id_key;
alter table customers add unique (workspace_id, external_id);
alter table customers add unique (workspace_id, intercom_id);
drop index customers_synced_run;
create index customers_synced_run on customers (workspace_id, synced_run);
create index customers_name on customers (workspace_id, lower(name), id);

alter table contacts drop constraint contacts_external_id_key;
alter table contacts drop constraint contacts_intercom_id_key;
alter table contacts add unique (workspace_id, external_id);
alter table contacts add unique (workspace_id, intercom_id);
create index contacts_name on contacts (workspace_id, lower(name), id);

alter table interactions drop constraint interactions_intercom_id_key;
alter table interactions add unique (workspace_id, intercom_id);
drop index interactions_created_at;
create index interactions_created_at on interactions (workspace_id, created_at);

-- One connection per workspace; one Intercom workspace (its app id) is connected to one
-- Skalin workspace at a time: webhooks are routed by it.
alter table intercom_connections drop constraint intercom_connections_pkey;
alter table intercom_connections drop column id;
alter table intercom_connections add primary key (workspace_id);
alter table intercom_connections add unique (app_id);

alter table integration_settings drop constraint integration_settings_pkey;
alter table integration_settings drop column id;
alter table integration_settings add primary key (workspace_id);

drop index settings_changes_changed_at;
create index settings_changes_changed_at on settings_changes (workspace_id, changed_at);

alter table sync_runs drop constraint sync_runs_schedule_slot_key;
alter table sync_runs add unique (workspace_id, schedule_slot);
create index sync_runs_workspace on sync_runs (workspace_id, id);
-- At most one active run per workspace.
drop index sync_runs_one_active;
create unique index sync_runs_one_active on sync_runs (workspace_id) where status in ('queued', 'running');

drop index sync_failures_open;
create index sync_failures_open on sync_failures (workspace_id, object, resolved_at);
create index sync_failures_run on sync_failures (run_id);

alter table sync_cursors drop constraint sync_cursors_pkey;
alter table sync_cursors add primary key (workspace_id, object);

-- Record ids are unique across workspaces, so the outbox's key stays; the workspace scopes reads.
create index sync_outbox_workspace on sync_outbox (workspace_id, object);
