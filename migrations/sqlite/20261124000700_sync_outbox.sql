-- Scores Skalin computes, pushed to Intercom when the upload is on.
alter table customers add column health_score integer;
alter table customers add column csm_pulse text;

-- Edits made in Skalin that Intercom has not received yet: one row per record and field,
-- the latest value only. `base` is the value before the first unsent edit, what Intercom
-- last agreed with, so that a two-way run can tell whether Intercom changed it too.
create table sync_outbox (
    object text not null,
    record_id integer not null,
    field text not null,
    value text,
    base text,
    changed_at integer not null,
    changed_by text not null,
    primary key (object, record_id, field)
);
