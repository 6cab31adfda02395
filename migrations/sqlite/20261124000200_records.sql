-- Customers, contacts and interactions as Skalin holds them. Timestamps are Unix seconds
-- in integers on both backends, so that the same queries decode the same way.
create table customers (
    id integer primary key autoincrement,
    external_id text not null unique,
    intercom_id text unique,
    name text not null,
    domain text,
    csm_owner text,
    stage text,
    profile text,
    updated_at integer not null
);

create table contacts (
    id integer primary key autoincrement,
    external_id text not null unique,
    intercom_id text unique,
    name text not null,
    email text,
    customer_id integer references customers (id),
    role_tag text,
    updated_at integer not null
);
create index contacts_customer_id on contacts (customer_id);

create table interactions (
    id integer primary key autoincrement,
    intercom_id text unique,
    title text not null,
    state text,
    contact_id integer references contacts (id),
    customer_id integer references customers (id),
    created_at integer not null
);
create index interactions_created_at on interactions (created_at);
