-- One Intercom connection per Skalin workspace (this deployment): a single row, id = 1.
-- The access token is kept encrypted (nonce and ciphertext); it never leaves the server.
create table intercom_connections (
    id bigint primary key check (id = 1),
    zone text not null check (zone in ('us', 'eu', 'au')),
    token_nonce bytea,
    token_ciphertext bytea,
    workspace_name text,
    app_id text,
    connected_by text,
    connected_at bigint not null,
    needs_reconnect boolean not null default false
);
