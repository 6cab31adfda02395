-- Intercom's notifications as they arrived at `POST /webhooks/intercom`, stored before
-- they are acknowledged so that none is lost, and applied behind by the worker. Delivery
-- is at least once: the notification id is unique, so a second delivery adds nothing.
-- `workspace_id` is the Skalin workspace connected to the notification's `app_id`; none
-- for a workspace no longer connected (acknowledged and counted, never applied).
create table webhook_events (
    id bigint generated always as identity primary key,
    notification_id text not null unique,
    app_id text,
    workspace_id bigint references workspaces (id),
    topic text not null,
    -- The raw body, as signed.
    body text not null,
    received_at bigint not null,
    -- pending, applied, ignored, failed, unrouted
    status text not null,
    attempts bigint not null default 0,
    next_attempt_at bigint,
    applied_at bigint,
    message text
);
create index webhook_events_due on webhook_events (status, next_attempt_at);
create index webhook_events_workspace on webhook_events (workspace_id, received_at);
