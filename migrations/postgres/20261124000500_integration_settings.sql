-- The integration settings of this deployment: a single row, id = 1, holding them as one
-- JSON document. They are edited, validated and saved as a whole (a mapping only makes
-- sense next to the sync modes it depends on), so one document means nothing is ever
-- half-saved, and settings can be exported and imported as is, whatever fields they grow.
create table integration_settings (
    id bigint primary key check (id = 1),
    document text not null,
    updated_at bigint not null,
    updated_by text not null
);

-- Who changed what and when: settings saves, and connect, disconnect and zone events.
-- The summary is a JSON array of strings, one human-readable line per change.
create table settings_changes (
    id bigint generated always as identity primary key,
    changed_at bigint not null,
    changed_by text not null,
    summary text not null
);
create index settings_changes_changed_at on settings_changes (changed_at);
