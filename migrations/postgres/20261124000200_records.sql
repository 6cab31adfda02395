-- Customers, contacts and interactions as Skalin holds them. Timestamps are Unix seconds
-- in integers on both backends, so that the same queries decode the same way.
create table customers (
    id bigint generated always as identity primary key,
    external_id text not null unique,
    intercom_id text unique,
    name text not null,
    domain text,
    csm_owner text,
    stage text,
    profile text,
    updated_at bigint not null
);

create table contacts (
    id bigint generated always as identity primary key,
    external_id text not null unique,
    intercom_id text unique,
    name text not null,
    email text,
    customer_id bigint references customers (id),
    role_tag text,
    updated_at bigint not null
);
create index contacts_customer_id on contacts (customer_id);

create table interactions (
    id bigint generated always as identity primary key,
    intercom_id text unique,
    title text not null,
    state text,
    contact_id bigint references contacts (id),
    customer_id bigint references customers (id),
    created_at bigint not null
);
create index interactions_created_at on interactions (created_at);
