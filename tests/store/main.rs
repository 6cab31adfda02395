//! The store's behaviour, told once and checked on SQLite and on PostgreSQL.

use app::domain::{Counts, ObjectStatus, RunRequest, RunStatus, RunTrigger, SyncObject, WalkKind};
use app::domain::{IntercomConnection, NewContact, NewCustomer, NewInteraction, PageRequest, SettingsChange, Zone};
use app::secrets::SecretKey;
use app::secrets::{decrypt_token, encrypt_token};
use std::sync::Arc;

use app::store::{Database, Directory, NewIntercomConnection, RunHolder, Store, StoreError, StoredSettings};
use app::sync_model::{NewRun, PageWrite, RecordWrite, StoredCustomer};
use secrecy::{ExposeSecret, SecretString};
use skalin_tests::{drop_postgres, fresh_postgres, fresh_sqlite, seed_customers};
use sqlx::Connection;

/// Runs a story on a fresh SQLite file and on a fresh PostgreSQL database, with the store
/// of a workspace made for it (`$of = store`) or with the whole directory (`$of =
/// directory`). A story written `story(url)` is also given the database URL, to reach
/// behind the store's back.
macro_rules! on_both_backends {
    ($of:ident: $($story:ident $(($url:ident))?),* $(,)?) => {
        mod $of {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $story() {
                    let db = super::super::fresh_sqlite();
                    let database = app::store::open(&db.url).await.expect("open SQLite");
                    let subject = super::super::$of(&database).await;
                    super::super::$story(subject.as_ref() $(, &db.$url)?).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $story() {
                    let Some(db) = super::super::fresh_postgres(stringify!($story)).await else { return };
                    let database = app::store::open(&db.url).await.expect("open PostgreSQL");
                    let subject = super::super::$of(&database).await;
                    super::super::$story(subject.as_ref() $(, &db.$url)?).await;
                    drop(subject);
                    drop(database);
                    super::super::drop_postgres(db).await;
                }
            )*
        }
        }
    };
}

/// The store of a workspace made for the story.
async fn store(database: &Database) -> Arc<dyn Store> {
    let workspace = database.directory.create_workspace("Acme", "acme").await.expect("create a workspace");
    database.directory.store(workspace.id)
}

/// The workspace the data of a database from before workspaces went into.
async fn default_workspace_store(database: &Database) -> Arc<dyn Store> {
    let default = database.directory.workspace_by_slug("default").await.unwrap().expect("the default workspace");
    database.directory.store(default.id)
}

async fn directory(database: &Database) -> Arc<dyn Directory> {
    database.directory.clone()
}

mod webhooks;
mod workspaces;
use webhooks::*;
use workspaces::*;

on_both_backends!(
    directory: a_created_user_is_found_by_email_and_id,
    a_second_user_with_the_same_email_is_a_conflict,
    upserting_a_user_resets_its_password,
    a_new_database_has_no_workspace,
    a_person_has_a_role_in_each_of_their_workspaces,
    two_workspaces_see_only_their_own_records,
    two_workspaces_keep_their_own_runs_settings_and_history,
    a_stale_or_orphaned_run_of_any_workspace_is_taken_over_from_the_shared_queue,
    one_intercom_workspace_is_connected_to_one_skalin_workspace_at_a_time,
    notifications_are_taken_oldest_first_once_and_a_lease_that_ran_out_gives_them_back,
    a_failed_notification_waits_for_its_retry_and_is_counted_until_it_applies,
);

on_both_backends!(
    store: customers_are_listed_by_name_one_page_at_a_time,
    contacts_are_listed_with_the_name_of_their_customer,
    one_customer_and_one_contact_read_by_id_look_as_they_do_in_their_lists,
    interactions_are_listed_newest_first,
    there_is_no_intercom_connection_until_one_is_made,
    an_intercom_connection_is_saved_read_back_and_forgotten,
    saving_the_settings_twice_keeps_the_latest_document_and_both_changes_newest_first,
    a_recorded_change_goes_to_the_history_only,
    a_settings_save_that_fails_halfway_leaves_nothing_behind(url),
    a_history_summary_that_is_not_a_list_of_lines_is_corrupt(url),
    a_running_run_whose_worker_is_named_dead_is_claimed_at_once_by_one_worker_only,
    a_stale_run_is_still_claimed_when_other_workers_are_named_dead,
    a_worker_whose_run_was_taken_over_can_no_longer_write_to_it,
    many_runs_queued_at_once_leave_exactly_one_active,
);

/// Runs one statement on the database directly, as another program could.
async fn execute_directly(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("open SQLite directly");
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("open PostgreSQL directly");
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    }
}

fn change(changed_at: i64, changed_by: &str, summary: &[&str]) -> SettingsChange {
    SettingsChange {
        changed_at,
        changed_by: changed_by.into(),
        summary: summary.iter().map(|line| line.to_string()).collect(),
    }
}

async fn a_created_user_is_found_by_email_and_id(directory: &dyn Directory) {
    let created = directory.create_user("ada@example.com", "hash").await.unwrap();
    let by_email = directory.user_by_email("ada@example.com").await.unwrap().unwrap();
    let by_id = directory.user_by_id(created.id).await.unwrap().unwrap();
    assert_eq!(by_email, created);
    assert_eq!(by_id, created);
    assert!(directory.user_by_email("nobody@example.com").await.unwrap().is_none());
}

async fn a_second_user_with_the_same_email_is_a_conflict(directory: &dyn Directory) {
    directory.create_user("ada@example.com", "hash").await.unwrap();
    let err = directory.create_user("ada@example.com", "other").await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let kept = directory.user_by_email("ada@example.com").await.unwrap().unwrap();
    assert_eq!(kept.password_hash, "hash", "the first user is untouched");
}

async fn upserting_a_user_resets_its_password(directory: &dyn Directory) {
    let first = directory.upsert_user("demo@example.com", "one").await.unwrap();
    let second = directory.upsert_user("demo@example.com", "two").await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(second.password_hash, "two");
}

async fn customers_are_listed_by_name_one_page_at_a_time(store: &dyn Store) {
    seed_customers(store, 30).await;
    let first = store.list_customers(PageRequest::new(Some(1), Some(25))).await.unwrap();
    let second = store.list_customers(PageRequest::new(Some(2), Some(25))).await.unwrap();
    assert_eq!(first.total, 30);
    assert_eq!(first.items.len(), 25);
    assert_eq!(first.items[0].name, "Customer 001");
    assert_eq!(second.items.len(), 5);
    assert_eq!(second.items[0].name, "Customer 026");
    assert_eq!(second.items[4].external_id, "cust-030");
}

async fn contacts_are_listed_with_the_name_of_their_customer(store: &dyn Store) {
    seed_customers(store, 1).await;
    for (id, name, customer) in [("c-1", "Zoe", Some("cust-001")), ("c-2", "Adam", None)] {
        store
            .insert_contact(&NewContact {
                external_id: id.into(),
                intercom_id: None,
                name: name.into(),
                email: Some(format!("{}@example.com", name.to_lowercase())),
                customer_external_id: customer.map(Into::into),
            })
            .await
            .unwrap();
    }
    let page = store.list_contacts(PageRequest::default()).await.unwrap();
    let rows: Vec<_> = page.items.iter().map(|c| (c.name.as_str(), c.customer_name.as_deref())).collect();
    assert_eq!(rows, [("Adam", None), ("Zoe", Some("Customer 001"))]);
}

async fn one_customer_and_one_contact_read_by_id_look_as_they_do_in_their_lists(store: &dyn Store) {
    seed_customers(store, 3).await;
    let contact = NewContact {
        external_id: "c-1".into(),
        intercom_id: None,
        name: "Zoe".into(),
        email: None,
        customer_external_id: Some("cust-002".into()),
    };
    let contact_id = store.insert_contact(&contact).await.unwrap();
    let listed = store.list_customers(PageRequest::default()).await.unwrap().items[1].clone();
    assert_eq!(store.customer(listed.id).await.unwrap(), Some(listed));
    let read = store.contact(contact_id).await.unwrap().expect("the contact");
    assert_eq!(Some(&read), store.list_contacts(PageRequest::default()).await.unwrap().items.first());
    assert_eq!(read.customer_name.as_deref(), Some("Customer 002"));
    assert_eq!(store.customer(999_999).await.unwrap(), None);
    assert_eq!(store.contact(999_999).await.unwrap(), None);
}

async fn interactions_are_listed_newest_first(store: &dyn Store) {
    seed_customers(store, 1).await;
    for (title, created_at) in [("Old", 1_000), ("New", 2_000)] {
        store
            .insert_interaction(&NewInteraction {
                intercom_id: Some(title.to_lowercase()),
                title: title.into(),
                state: Some("open".into()),
                customer_external_id: Some("cust-001".into()),
                created_at,
            })
            .await
            .unwrap();
    }
    let page = store.list_interactions(PageRequest::default()).await.unwrap();
    let titles: Vec<_> = page.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["New", "Old"]);
    assert_eq!(page.items[0].customer_name.as_deref(), Some("Customer 001"));
}

async fn there_is_no_intercom_connection_until_one_is_made(store: &dyn Store) {
    assert!(store.intercom_connection().await.unwrap().is_none());
}

#[tokio::test]
async fn opening_a_database_twice_runs_the_migrations_once() {
    let db = fresh_sqlite();
    let first = app::store::open(&db.url).await.unwrap();
    first.directory.create_user("ada@example.com", "hash").await.unwrap();
    drop(first);
    let second = app::store::open(&db.url).await.unwrap();
    assert!(second.directory.user_by_email("ada@example.com").await.unwrap().is_some());
}

#[tokio::test]
async fn a_database_url_of_an_unknown_kind_is_refused() {
    let err = app::store::open("mysql://localhost/skalin").await.err().unwrap();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)), "{err}");
}

#[tokio::test]
async fn a_customer_id_is_unique() {
    let db = fresh_sqlite();
    let database = app::store::open(&db.url).await.unwrap();
    let store = store(&database).await;
    let customer =
        NewCustomer { external_id: "cust-1".into(), intercom_id: None, name: "Acme".into(), domain: None, stage: None };
    store.insert_customer(&customer).await.unwrap();
    let err = store.insert_customer(&customer).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
}

async fn an_intercom_connection_is_saved_read_back_and_forgotten(store: &dyn Store) {
    let key = SecretKey([7; 32]);
    let token = encrypt_token(&key, &SecretString::from("tok-secret".to_string()));
    store
        .save_intercom_connection(&NewIntercomConnection {
            zone: Zone::Eu,
            token: token.clone(),
            workspace_name: Some("Acme".into()),
            app_id: Some("abc123".into()),
            detected_zone: Some(Zone::Us),
            connected_by: "ada@example.com".into(),
            connected_at: 1_000,
        })
        .await
        .unwrap();

    // What the page sees: everything but the token, which the type has no room for.
    let connection = store.intercom_connection().await.unwrap().unwrap();
    assert_eq!(
        connection,
        IntercomConnection {
            zone: Zone::Eu,
            workspace_name: Some("Acme".into()),
            app_id: Some("abc123".into()),
            connected_by: Some("ada@example.com".into()),
            connected_at: 1_000,
            needs_reconnect: false,
            detected_zone: Some(Zone::Us),
        }
    );
    let (zone, stored) = store.intercom_token().await.unwrap().unwrap();
    assert_eq!((zone, &stored), (Zone::Eu, &token), "the very bytes that were saved");
    assert_eq!(decrypt_token(&key, &stored).unwrap().expose_secret(), "tok-secret");

    store.mark_intercom_reconnect_needed().await.unwrap();
    assert!(store.intercom_connection().await.unwrap().unwrap().needs_reconnect);

    // Connecting again replaces everything, the reconnect flag and detected zone included.
    let token = encrypt_token(&key, &SecretString::from("tok-new".to_string()));
    store
        .save_intercom_connection(&NewIntercomConnection {
            zone: Zone::Eu,
            token: token.clone(),
            workspace_name: None,
            app_id: Some("abc123".into()),
            detected_zone: None,
            connected_by: "max@example.com".into(),
            connected_at: 2_000,
        })
        .await
        .unwrap();
    let connection = store.intercom_connection().await.unwrap().unwrap();
    assert!(!connection.needs_reconnect);
    assert_eq!(connection.detected_zone, None);
    assert_eq!(connection.workspace_name, None);
    assert_eq!(connection.connected_by.as_deref(), Some("max@example.com"));
    assert_eq!(connection.connected_at, 2_000);
    assert_eq!(store.intercom_token().await.unwrap(), Some((Zone::Eu, token.clone())));

    assert!(store.set_intercom_zone(Zone::Au).await.unwrap());
    assert_eq!(store.intercom_connection().await.unwrap().unwrap().zone, Zone::Au);
    assert_eq!(store.intercom_token().await.unwrap(), Some((Zone::Au, token)));

    assert!(store.delete_intercom_connection().await.unwrap());
    assert!(store.intercom_connection().await.unwrap().is_none());
    assert!(store.intercom_token().await.unwrap().is_none());
    assert!(!store.delete_intercom_connection().await.unwrap(), "nothing left to delete");
    assert!(!store.set_intercom_zone(Zone::Us).await.unwrap(), "no connection to move");
    store.mark_intercom_reconnect_needed().await.unwrap();
    assert!(store.intercom_connection().await.unwrap().is_none(), "marking creates nothing");
}

async fn saving_the_settings_twice_keeps_the_latest_document_and_both_changes_newest_first(store: &dyn Store) {
    assert!(store.integration_settings().await.unwrap().is_none());
    let first = change(1_000, "ada@example.com", &["Customers mode: Disabled → Read"]);
    let second = change(2_000, "max@example.com", &["Churn: Off → On", "Churn threshold: 10 % → 5 %"]);
    store.save_integration_settings(r#"{"version":1}"#, &first).await.unwrap();
    store.save_integration_settings(r#"{"version":2}"#, &second).await.unwrap();

    assert_eq!(
        store.integration_settings().await.unwrap(),
        Some(StoredSettings {
            document: r#"{"version":2}"#.into(),
            updated_at: 2_000,
            updated_by: "max@example.com".into(),
        })
    );
    assert_eq!(store.settings_history(10).await.unwrap(), [second.clone(), first]);
    assert_eq!(store.settings_history(1).await.unwrap(), [second]);
}

async fn a_recorded_change_goes_to_the_history_only(store: &dyn Store) {
    let connected = change(1_000, "ada@example.com", &["Connected to Intercom (EU)"]);
    let moved = change(1_000, "ada@example.com", &["Zone: EU → US"]);
    store.record_settings_change(&connected).await.unwrap();
    store.record_settings_change(&moved).await.unwrap();
    assert!(store.integration_settings().await.unwrap().is_none());
    // Within the same second, the later record comes first.
    assert_eq!(store.settings_history(10).await.unwrap(), [moved, connected]);
}

async fn a_settings_save_that_fails_halfway_leaves_nothing_behind(store: &dyn Store, url: &str) {
    let first = change(1_000, "ada@example.com", &["First"]);
    store.save_integration_settings(r#"{"version":1}"#, &first).await.unwrap();

    // With the history out of reach, the settings are written but the change cannot be.
    execute_directly(url, "alter table settings_changes rename to settings_changes_away").await;
    let second = change(2_000, "max@example.com", &["Second"]);
    store.save_integration_settings(r#"{"version":2}"#, &second).await.unwrap_err();
    execute_directly(url, "alter table settings_changes_away rename to settings_changes").await;

    let kept = store.integration_settings().await.unwrap().unwrap();
    assert_eq!(kept.document, r#"{"version":1}"#, "the settings write was rolled back");
    assert_eq!(kept.updated_by, "ada@example.com");
    assert_eq!(store.settings_history(10).await.unwrap(), [first]);
}

async fn a_history_summary_that_is_not_a_list_of_lines_is_corrupt(store: &dyn Store, url: &str) {
    for summary in ["not json", "[1, 2]", r#"{"line": "x"}"#] {
        execute_directly(url, "delete from settings_changes").await;
        execute_directly(
            url,
            &format!(
                "insert into settings_changes (changed_at, changed_by, summary, workspace_id) \
                 values (1, 'ada', '{summary}', {})",
                store.workspace()
            ),
        )
        .await;
        let err = store.settings_history(10).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{summary}: {err:?}");
    }
}

/// A run queued and claimed by `worker` at `now`; answers its id.
async fn a_run_claimed_by(store: &dyn Store, worker: &str, now: i64) -> i64 {
    let run = NewRun {
        trigger: RunTrigger::Manual,
        requested_by: "ada@example.com".into(),
        request: RunRequest { objects: vec![], walk: None, dry_run: false },
        schedule_slot: None,
        queued_at: now,
    };
    let id = store.enqueue_run(&run).await.unwrap().expect("the run is queued");
    let claimed = store.claim_run(worker, now, 0, &[]).await.unwrap().expect("the queued run is claimed");
    assert_eq!(claimed.id, id);
    id
}

async fn a_running_run_whose_worker_is_named_dead_is_claimed_at_once_by_one_worker_only(store: &dyn Store) {
    let id = a_run_claimed_by(store, "cli:here:100:1", 1_000).await;
    assert_eq!(store.running_workers().await.unwrap(), vec!["cli:here:100:1".to_string()]);
    // Beaten at 1,000: fresh for the heartbeat rule.
    let stale_before = 900;
    let claim = |worker: &'static str, dead: Vec<String>| async move {
        store.claim_run(worker, 1_001, stale_before, &dead).await.unwrap()
    };
    assert!(claim("cli:here:200:2", vec![]).await.is_none(), "a beating worker keeps its run");
    let others = vec!["cli:here:999:9".to_string(), "cli:elsewhere:100:1".to_string()];
    assert!(claim("cli:here:200:2", others).await.is_none(), "only a run of a worker named dead is taken");

    let dead = vec!["cli:here:100:1".to_string()];
    let (a, b) = tokio::join!(claim("cli:here:200:2", dead.clone()), claim("cli:here:300:3", dead));
    let taken: Vec<_> = a.into_iter().chain(b).collect();
    assert_eq!(taken.len(), 1, "two workers cannot both take the run over");
    assert_eq!(taken[0].id, id);
    assert!(!store.heartbeat(id, "cli:here:100:1", 1_002, [0; 3]).await.unwrap(), "the dead worker lost its claim");
    let holder = store.running_workers().await.unwrap();
    assert!(holder == ["cli:here:200:2"] || holder == ["cli:here:300:3"], "{holder:?}");
    assert!(store.heartbeat(id, &holder[0], 1_002, [0; 3]).await.unwrap(), "the new worker holds the run");
}

async fn a_stale_run_is_still_claimed_when_other_workers_are_named_dead(store: &dyn Store) {
    let id = a_run_claimed_by(store, "cli:here:100:1", 1_000).await;
    let others = ["cli:here:999:9".to_string()];
    let claimed = store.claim_run("cli:here:200:2", 1_100, 1_050, &others).await.unwrap();
    assert_eq!(claimed.map(|run| run.id), Some(id), "the heartbeat rule holds beside the dead workers");
}

/// A page of one new customer, `done` records read, checkpointed at `cursor`.
fn a_page_of_one_customer(intercom_id: &str, cursor: &str) -> PageWrite {
    PageWrite {
        writes: vec![RecordWrite::Customer(StoredCustomer {
            id: 0,
            external_id: format!("ext-{intercom_id}"),
            intercom_id: Some(intercom_id.into()),
            name: format!("Company {intercom_id}"),
            domain: None,
            csm_owner: None,
            stage: None,
            profile: None,
            health_score: None,
            csm_pulse: None,
            intercom_updated_at: Some(1),
            synced_run: None,
            churned_at: None,
        })],
        counts: Counts { created: 1, ..Counts::default() },
        done: 1,
        cursor: Some(Some(cursor.into())),
        ..PageWrite::default()
    }
}

async fn a_worker_whose_run_was_taken_over_can_no_longer_write_to_it(store: &dyn Store) {
    let (old, new) = (RunHolder::Worker("old"), RunHolder::Worker("new"));
    let customers = SyncObject::Customers;
    let id = a_run_claimed_by(store, "old", 1_000).await;
    store.plan_objects(id, old, &[(customers, WalkKind::Full, ObjectStatus::Pending)]).await.unwrap();
    let taken = store.claim_run("new", 2_000, 1_500, &[]).await.unwrap();
    assert_eq!(taken.map(|run| run.id), Some(id), "the stale run is taken over");

    let lost = |result: Result<(), StoreError>, what: &str| {
        assert!(matches!(result, Err(StoreError::RunLost(lost)) if lost == id), "{what}: {result:?}");
    };
    lost(store.apply_page(id, old, customers, &a_page_of_one_customer("ic-old", "old")).await, "a page");
    lost(store.finish_run(id, old, RunStatus::Failed, Some("old worker"), 2_001).await, "the run's end");
    lost(store.finish_object(id, old, customers, ObjectStatus::Failed, Some("old"), None).await, "an object's end");
    lost(store.set_object_status(id, old, customers, ObjectStatus::Failed, Some("old"), None).await, "a status");
    let plan = [(SyncObject::Contacts, WalkKind::Full, ObjectStatus::Pending)];
    lost(store.plan_objects(id, old, &plan).await, "a plan");
    lost(store.finish_run(id, RunHolder::Admin, RunStatus::Failed, None, 2_001).await, "an admin's end");
    let ids = ["ic-old".to_string()];
    assert!(store.customers_by_keys(&ids, &[]).await.unwrap().is_empty(), "nothing of its page was written");
    let run = store.sync_run(id).await.unwrap().unwrap();
    assert_eq!((run.status, run.message.as_deref()), (RunStatus::Running, None), "{run:#?}");
    assert_eq!(run.objects.len(), 1, "{run:#?}");
    assert_eq!((run.objects[0].status, run.objects[0].done), (ObjectStatus::Pending, 0), "{run:#?}");
    assert_eq!(store.checkpoints(id).await.unwrap()[0].cursor, None, "the checkpoint is the new owner's");
    assert_eq!(store.running_workers().await.unwrap(), ["new"]);

    store.apply_page(id, new, customers, &a_page_of_one_customer("ic-new", "new")).await.unwrap();
    store.finish_object(id, new, customers, ObjectStatus::Done, None, None).await.unwrap();
    store.finish_run(id, new, RunStatus::Success, None, 2_002).await.unwrap();
    let run = store.sync_run(id).await.unwrap().unwrap();
    assert_eq!((run.status, run.objects[0].done), (RunStatus::Success, 1), "{run:#?}");
    assert_eq!(store.checkpoints(id).await.unwrap()[0].cursor.as_deref(), Some("new"));
    lost(store.finish_run(id, new, RunStatus::Failed, None, 2_003).await, "an ended run takes no more writes");
}

async fn many_runs_queued_at_once_leave_exactly_one_active(store: &dyn Store) {
    let queue = |n: i64| async move {
        let run = NewRun {
            trigger: RunTrigger::Manual,
            requested_by: format!("user-{n}@example.com"),
            request: RunRequest { objects: vec![], walk: None, dry_run: false },
            schedule_slot: None,
            queued_at: 1_000 + n,
        };
        store.enqueue_run(&run).await.expect("a run that finds another active one is no error")
    };
    let queued: Vec<i64> = futures::future::join_all((0..20).map(queue)).await.into_iter().flatten().collect();
    assert_eq!(queued.len(), 1, "one of 20 racing requests queues its run: {queued:?}");
    assert_eq!(store.active_run().await.unwrap(), Some(queued[0]));
    let runs = store.sync_runs(50).await.unwrap();
    let active: Vec<i64> = runs.iter().filter(|r| r.status.is_active()).map(|r| r.id).collect();
    assert_eq!(active, queued, "{runs:#?}");
}

/// Migrates the database at `url` up to, not including, migration `version`: a database
/// as a release before that migration left it.
async fn migrated_before(url: &str, version: i64) {
    let backend = if url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(backend);
    let earlier = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&all).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.split('_').next().unwrap().parse::<i64>().unwrap() < version {
            std::fs::copy(&path, earlier.path().join(name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(earlier.path()).await.unwrap();
    // Closed before the store opens: SQLite turns to WAL only with no other connection.
    if backend == "sqlite" {
        let options = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        migrator.run(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        migrator.run(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Before the one-active-run rule, a race could leave several runs active: the migration
/// that brings the rule keeps the oldest and fails the others rather than failing itself.
async fn runs_left_active_side_by_side_keep_only_the_oldest_active_once_migrated(url: &str) {
    migrated_before(url, 20261124000800).await;
    let request = r#"{"objects":[],"walk":null,"dry_run":false}"#;
    let run = |status: &str, at: u8| format!("('manual', 'ada', '{request}', '{status}', {at})");
    let runs = [run("success", 1), run("running", 2), run("queued", 3), run("queued", 4)].join(", ");
    execute_directly(
        url,
        &format!("insert into sync_runs (trigger, requested_by, request, status, queued_at) values {runs}"),
    )
    .await;
    let database = app::store::open(url).await.expect("the migration goes through");
    let store = default_workspace_store(&database).await;
    let runs = store.sync_runs(10).await.unwrap();
    let statuses: Vec<(i64, RunStatus)> = runs.iter().rev().map(|r| (r.id, r.status)).collect();
    use RunStatus::*;
    assert_eq!(statuses, [(1, Success), (2, Running), (3, Failed), (4, Failed)], "{runs:#?}");
    assert!(runs[0].message.as_deref().is_some_and(|m| m.contains("another run was already active")), "{runs:#?}");
    assert_eq!(store.active_run().await.unwrap(), Some(2));
}

#[tokio::test]
async fn runs_left_active_side_by_side_on_sqlite_keep_only_the_oldest_active_once_migrated() {
    let db = fresh_sqlite();
    runs_left_active_side_by_side_keep_only_the_oldest_active_once_migrated(&db.url).await;
}

#[tokio::test]
async fn runs_left_active_side_by_side_on_postgresql_keep_only_the_oldest_active_once_migrated() {
    let Some(db) = fresh_postgres("runs_left_active_side_by_side_on_postgresql").await else { return };
    runs_left_active_side_by_side_keep_only_the_oldest_active_once_migrated(&db.url).await;
    drop_postgres(db).await;
}

#[tokio::test]
async fn data_from_before_workspaces_moves_into_a_default_workspace_on_sqlite() {
    let db = fresh_sqlite();
    data_from_before_workspaces_moves_into_a_default_workspace(&db.url).await;
}

#[tokio::test]
async fn data_from_before_workspaces_moves_into_a_default_workspace_on_postgresql() {
    let Some(db) = fresh_postgres("data_from_before_workspaces_moves").await else { return };
    data_from_before_workspaces_moves_into_a_default_workspace(&db.url).await;
    drop_postgres(db).await;
}
