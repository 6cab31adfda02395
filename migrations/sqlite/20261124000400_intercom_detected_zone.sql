-- The region Intercom's `GET /me` reported when the workspace was connected, if it said
-- one, kept beside the zone the admin chose so that a mismatch can be pointed out.
-- Nullable: older connections, and workspaces whose answer names no region, have none.
-- (SQLite accepts a check on an added column; with no default, existing rows hold null.)
alter table intercom_connections
    add column detected_zone text check (detected_zone in ('us', 'eu', 'au'));
