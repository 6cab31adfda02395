//! Workspaces: each keeps its own records, runs, settings and connection; people have a
//! role in each; the data of a database from before workspaces moves into one.

use app::domain::{
    CustomerEdit, IntercomConnection, NewContact, PageRequest, Role, RunRequest, RunStatus, RunTrigger, Zone,
};
use app::secrets::{encrypt_token, SecretKey};
use app::store::{Directory, NewIntercomConnection, NewWebhookEvent, Recorded, RunHolder, StoreError};
use app::sync_model::NewRun;
use secrecy::SecretString;
use skalin_tests::seed_customers;

use super::{change, default_workspace_store, execute_directly, migrated_before};

fn a_run(queued_at: i64) -> NewRun {
    NewRun {
        trigger: RunTrigger::Manual,
        requested_by: "ada@example.com".into(),
        request: RunRequest { objects: vec![], walk: None, dry_run: false },
        schedule_slot: None,
        queued_at,
    }
}

fn a_connection(app_id: &str) -> NewIntercomConnection {
    let token = encrypt_token(&SecretKey([7; 32]), &SecretString::from("tok".to_string()));
    NewIntercomConnection {
        zone: Zone::Us,
        token,
        workspace_name: Some(format!("Intercom {app_id}")),
        app_id: Some(app_id.into()),
        detected_zone: None,
        connected_by: "ada@example.com".into(),
        connected_at: 1_000,
    }
}

pub async fn two_workspaces_see_only_their_own_records(directory: &dyn Directory) {
    let a = directory.create_workspace("A", "a").await.unwrap();
    let b = directory.create_workspace("B", "b").await.unwrap();
    let (in_a, in_b) = (directory.store(a.id), directory.store(b.id));
    // The same customer IDs in both: uniqueness is per workspace.
    seed_customers(in_a.as_ref(), 3).await;
    seed_customers(in_b.as_ref(), 2).await;
    let contact = |id: &str| NewContact {
        external_id: id.into(),
        intercom_id: None,
        name: "Zoe".into(),
        email: None,
        customer_external_id: Some("cust-001".into()),
    };
    in_b.insert_contact(&contact("c-1")).await.unwrap();

    assert_eq!(in_a.list_customers(PageRequest::default()).await.unwrap().total, 3);
    assert_eq!(in_b.list_customers(PageRequest::default()).await.unwrap().total, 2);
    assert_eq!(in_a.list_contacts(PageRequest::default()).await.unwrap().total, 0);
    let b_contact = in_b.list_contacts(PageRequest::default()).await.unwrap().items.remove(0);
    assert_eq!(b_contact.customer_name.as_deref(), Some("Customer 001"), "linked to B's own customer");

    let b_customer = in_b.list_customers(PageRequest::default()).await.unwrap().items.remove(0);
    assert_eq!(in_a.customer(b_customer.id).await.unwrap(), None, "B's customer, read from A");
    assert_eq!(in_a.contact(b_contact.id).await.unwrap(), None, "B's contact, read from A");
    let edit = CustomerEdit { stage: Some("churned".into()), ..CustomerEdit::default() };
    assert!(!in_a.edit_customer(b_customer.id, &edit, "mallory", 2_000).await.unwrap(), "B's customer, edited from A");
    assert_eq!(in_b.customer(b_customer.id).await.unwrap(), Some(b_customer), "unchanged");
}

pub async fn two_workspaces_keep_their_own_runs_settings_and_history(directory: &dyn Directory) {
    let a = directory.create_workspace("A", "a").await.unwrap();
    let b = directory.create_workspace("B", "b").await.unwrap();
    let (in_a, in_b) = (directory.store(a.id), directory.store(b.id));

    let run_a = in_a.enqueue_run(&a_run(1_000)).await.unwrap().expect("A's run is queued");
    let run_b = in_b.enqueue_run(&a_run(1_001)).await.unwrap().expect("B's run is queued beside A's");
    assert_eq!(in_a.enqueue_run(&a_run(1_002)).await.unwrap(), None, "still one active run per workspace");
    assert_eq!((in_a.active_run().await.unwrap(), in_b.active_run().await.unwrap()), (Some(run_a), Some(run_b)));
    assert_eq!(in_a.sync_run(run_b).await.unwrap(), None, "B's run, read from A");
    let listed: Vec<i64> = in_a.sync_runs(10).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(listed, [run_a]);
    assert!(in_a.checkpoints(run_b).await.unwrap().is_empty());
    assert!(!in_a.requeue_run(run_b).await.unwrap());

    in_a.save_integration_settings("{\"a\":1}", &change(1_000, "ada", &["A saved"])).await.unwrap();
    assert_eq!(in_b.integration_settings().await.unwrap(), None);
    assert!(in_b.settings_history(10).await.unwrap().is_empty());
    assert_eq!(in_a.settings_history(10).await.unwrap().len(), 1);

    // The queue is shared: oldest first, whatever the workspace.
    let (first, claimed) = directory.claim_any_run("w1", 2_000, 0, &[]).await.unwrap().expect("a run");
    assert_eq!((first, claimed.id), (a.id, run_a));
    let (second, claimed) = directory.claim_any_run("w2", 2_000, 0, &[]).await.unwrap().expect("another run");
    assert_eq!((second, claimed.id), (b.id, run_b));
    assert!(directory.claim_any_run("w3", 2_000, 0, &[]).await.unwrap().is_none());
    // A's store cannot end B's run, even under the name of B's worker.
    let lost = in_a.finish_run(run_b, RunHolder::Worker("w2"), RunStatus::Failed, None, 2_001).await;
    assert!(matches!(lost, Err(StoreError::RunLost(_))), "{lost:?}");
    assert!(!in_a.heartbeat(run_b, "w2", 2_002, [0, 0, 0]).await.unwrap());
    assert_eq!(in_b.sync_run(run_b).await.unwrap().unwrap().status, RunStatus::Running);
}

/// A run whose worker stopped beating, or whose process is gone, is taken over from the
/// shared queue whatever its workspace.
pub async fn a_stale_or_orphaned_run_of_any_workspace_is_taken_over_from_the_shared_queue(directory: &dyn Directory) {
    let a = directory.create_workspace("A", "a").await.unwrap();
    let b = directory.create_workspace("B", "b").await.unwrap();
    let (in_a, in_b) = (directory.store(a.id), directory.store(b.id));
    let stale = in_a.enqueue_run(&a_run(1_000)).await.unwrap().unwrap();
    let orphan = in_b.enqueue_run(&a_run(1_000)).await.unwrap().unwrap();
    directory.claim_any_run("w-stale", 1_000, 0, &[]).await.unwrap().expect("A's run");
    directory.claim_any_run("w-dead", 5_000, 0, &[]).await.unwrap().expect("B's run");
    // At 5,001, with runs beaten before 2,000 stale: A's (beaten at 1,000) is taken over;
    // B's (beaten at 5,000) is not, until its worker is named dead.
    let (workspace, run) = directory.claim_any_run("w-new", 5_001, 2_000, &[]).await.unwrap().expect("A's stale run");
    assert_eq!((workspace, run.id), (a.id, stale));
    assert!(!in_a.heartbeat(stale, "w-stale", 5_001, [0, 0, 0]).await.unwrap(), "the stale worker lost it");
    assert!(directory.claim_any_run("w-new", 5_001, 2_000, &[]).await.unwrap().is_none(), "B's worker still beats");
    let (workspace, run) =
        directory.claim_any_run("w-new", 5_002, 2_000, &["w-dead".to_string()]).await.unwrap().expect("the orphan");
    assert_eq!((workspace, run.id), (b.id, orphan));
    assert!(!in_b.heartbeat(orphan, "w-dead", 5_003, [0, 0, 0]).await.unwrap(), "the dead worker lost it");
}

/// The workspace a new notification from this Intercom workspace is stored for, if any.
async fn routed_to(directory: &dyn Directory, app_id: &str, notification: &str) -> Option<i64> {
    let event = NewWebhookEvent {
        notification_id: notification.into(),
        app_id: Some(app_id.into()),
        topic: "company.updated".into(),
        body: notification.into(),
        received_at: 1_000,
    };
    match directory.record_webhook(&event).await.unwrap() {
        Recorded::Unrouted => None,
        Recorded::Duplicate => panic!("{notification} was new"),
        Recorded::Routed => {
            let taken = directory.claim_webhooks(100, 1_000, 1_015).await.unwrap();
            taken.iter().find(|e| e.body == notification).map(|e| e.workspace_id)
        }
    }
}

pub async fn one_intercom_workspace_is_connected_to_one_skalin_workspace_at_a_time(directory: &dyn Directory) {
    let a = directory.create_workspace("A", "a").await.unwrap();
    let b = directory.create_workspace("B", "b").await.unwrap();
    let (in_a, in_b) = (directory.store(a.id), directory.store(b.id));
    in_a.save_intercom_connection(&a_connection("app-1")).await.unwrap();
    let err = in_b.save_intercom_connection(&a_connection("app-1")).await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict(what) if what.contains("Intercom workspace app-1")), "{err:?}");
    assert_eq!(in_b.intercom_connection().await.unwrap(), None);
    assert_eq!(routed_to(directory, "app-1", "n1").await, Some(a.id), "A's notifications go to A");

    in_b.save_intercom_connection(&a_connection("app-2")).await.unwrap();
    assert!(in_a.delete_intercom_connection().await.unwrap());
    assert_eq!(routed_to(directory, "app-1", "n2").await, None, "kept for no workspace once A is disconnected");
    assert!(in_a.intercom_connection().await.unwrap().is_none());
    assert_eq!(in_b.intercom_connection().await.unwrap().and_then(|c| c.app_id), Some("app-2".into()));
    in_b.save_intercom_connection(&a_connection("app-1")).await.unwrap();
    assert_eq!(routed_to(directory, "app-1", "n3").await, Some(b.id), "B's from the moment B connects it");
}

pub async fn a_person_has_a_role_in_each_of_their_workspaces(directory: &dyn Directory) {
    let acme = directory.create_workspace("Acme", "acme").await.unwrap();
    let globex = directory.create_workspace("Globex", "globex").await.unwrap();
    let err = directory.create_workspace("Acme again", "acme").await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let ada = directory.create_user("ada@example.com", "hash").await.unwrap();
    assert!(directory.memberships(ada.id).await.unwrap().is_empty());

    directory.set_membership(globex.id, ada.id, Role::Admin).await.unwrap();
    directory.set_membership(acme.id, ada.id, Role::Member).await.unwrap();
    let roles = |m: Vec<app::domain::Membership>| m.into_iter().map(|m| (m.workspace.slug, m.role)).collect::<Vec<_>>();
    let by_name = roles(directory.memberships(ada.id).await.unwrap());
    assert_eq!(by_name, [("acme".to_string(), Role::Member), ("globex".to_string(), Role::Admin)]);

    directory.set_membership(acme.id, ada.id, Role::Admin).await.unwrap();
    assert_eq!(roles(directory.memberships(ada.id).await.unwrap())[0], ("acme".to_string(), Role::Admin));
}

/// A database filled by the schema before workspaces: everything it held, history
/// included, belongs to one "Default" workspace, and its people keep their roles there.
pub async fn data_from_before_workspaces_moves_into_a_default_workspace(url: &str) {
    migrated_before(url, 20261201000100).await;
    for sql in [
        "insert into users (email, password_hash, role, created_at) values \
             ('ada@example.com', 'h1', 'admin', 1), ('max@example.com', 'h2', 'member', 2)",
        "insert into customers (external_id, intercom_id, name, updated_at, synced_run) \
             values ('cust-1', 'ic-1', 'Acme', 10, 1)",
        "insert into contacts (external_id, intercom_id, name, customer_id, updated_at) \
             values ('ct-1', 'ic-c1', 'Zoe', 1, 11)",
        "insert into interactions (intercom_id, title, contact_id, customer_id, created_at) \
             values ('t-1', 'Help', 1, 1, 12)",
        "insert into intercom_connections (id, zone, workspace_name, app_id, connected_by, connected_at) \
             values (1, 'eu', 'Acme Intercom', 'app-1', 'ada@example.com', 13)",
        "insert into integration_settings (id, document, updated_at, updated_by) values (1, '{}', 14, 'ada')",
        "insert into settings_changes (changed_at, changed_by, summary) values (14, 'ada', '[\"Saved\"]')",
        "insert into sync_runs (trigger, requested_by, request, status, queued_at, schedule_slot) \
             values ('manual', 'ada', '{\"objects\":[],\"walk\":null,\"dry_run\":false}', 'success', 15, 7)",
        "insert into sync_run_objects (run_id, object, status, walk, created) \
             values (1, 'customers', 'done', 'full', 1)",
        "insert into sync_failures (run_id, object, intercom_id, message, failed_at) \
             values (1, 'customers', 'ic-9', 'refused', 16)",
        "insert into sync_cursors (object, updated_since, full_at) values ('customers', 17, 18)",
        "insert into sync_outbox (object, record_id, field, value, base, changed_at, changed_by) \
             values ('customers', 1, 'stage', 'active', null, 19, 'ada')",
    ] {
        execute_directly(url, sql).await;
    }
    let database = app::store::open(url).await.expect("the migration goes through");
    let directory = database.directory.as_ref();
    let workspaces = directory.workspaces().await.unwrap();
    assert_eq!(workspaces.iter().map(|w| w.slug.as_str()).collect::<Vec<_>>(), ["default"]);
    for (email, role) in [("ada@example.com", Role::Admin), ("max@example.com", Role::Member)] {
        let user = directory.user_by_email(email).await.unwrap().expect("the user is kept");
        let memberships = directory.memberships(user.id).await.unwrap();
        assert_eq!(
            memberships.iter().map(|m| (m.workspace.id, m.role)).collect::<Vec<_>>(),
            [(workspaces[0].id, role)]
        );
    }

    let store = default_workspace_store(&database).await;
    let customers = store.list_customers(PageRequest::default()).await.unwrap();
    assert_eq!((customers.total, customers.items[0].name.as_str()), (1, "Acme"));
    let contacts = store.list_contacts(PageRequest::default()).await.unwrap();
    assert_eq!(contacts.items[0].customer_name.as_deref(), Some("Acme"));
    assert_eq!(store.list_interactions(PageRequest::default()).await.unwrap().items[0].title, "Help");
    let connection: Option<IntercomConnection> = store.intercom_connection().await.unwrap();
    assert_eq!(connection.map(|c| (c.zone, c.app_id)), Some((Zone::Eu, Some("app-1".into()))));
    assert!(store.intercom_token().await.unwrap().is_none(), "that row had no token");
    assert_eq!(store.integration_settings().await.unwrap().map(|s| s.document), Some("{}".into()));
    assert_eq!(store.settings_history(10).await.unwrap()[0].summary, ["Saved"]);
    let run = store.sync_run(1).await.unwrap().expect("the run is kept");
    assert_eq!((run.status, run.objects[0].counts.created), (RunStatus::Success, 1));
    assert_eq!(store.run_failures(1, 10).await.unwrap()[0].intercom_id, "ic-9");
    assert_eq!(store.sync_cursor(app::domain::SyncObject::Customers).await.unwrap().updated_since, Some(17));
    assert_eq!(store.pending_record_ids(app::domain::SyncObject::Customers, 10).await.unwrap(), [1]);
    // New rows go on after the old ones' ids.
    seed_customers(store.as_ref(), 1).await;
    assert_eq!(store.list_customers(PageRequest::default()).await.unwrap().total, 2);
}

/// A new database has no workspace until one is made: none is invented.
pub async fn a_new_database_has_no_workspace(directory: &dyn Directory) {
    assert!(directory.workspaces().await.unwrap().is_empty());
}
