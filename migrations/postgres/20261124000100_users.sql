-- People who sign in to Skalin. Emails are compared case-insensitively, so they are
-- stored lower-cased by the application and kept unique here.
create table users (
    id bigint generated always as identity primary key,
    email text not null unique,
    password_hash text not null,
    role text not null check (role in ('admin', 'member')),
    created_at bigint not null
);
