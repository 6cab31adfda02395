//! The store's behaviour, told once and checked on SQLite and on PostgreSQL.

use app::domain::{NewContact, NewCustomer, NewInteraction, PageRequest, Role};
use app::store::{Store, StoreError};
use skalin_tests::{drop_postgres, fresh_postgres, fresh_sqlite, seed_customers};

/// Runs a story on a fresh SQLite file and on a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $story() {
                    let db = super::fresh_sqlite();
                    let database = app::store::open(&db.url).await.expect("open SQLite");
                    super::$story(database.store.as_ref()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $story() {
                    let Some(db) = super::fresh_postgres(stringify!($story)).await else { return };
                    let database = app::store::open(&db.url).await.expect("open PostgreSQL");
                    super::$story(database.store.as_ref()).await;
                    drop(database);
                    super::drop_postgres(db).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_created_user_is_found_by_email_and_id,
    a_second_user_with_the_same_email_is_a_conflict,
    upserting_a_user_resets_its_password_and_role,
    customers_are_listed_by_name_one_page_at_a_time,
    contacts_are_listed_with_the_name_of_their_customer,
    interactions_are_listed_newest_first,
    there_is_no_intercom_connection_until_one_is_made,
);

async fn a_created_user_is_found_by_email_and_id(store: &dyn Store) {
    let created = store.create_user("ada@example.com", "hash", Role::Admin).await.unwrap();
    let by_email = store.user_by_email("ada@example.com").await.unwrap().unwrap();
    let by_id = store.user_by_id(created.id).await.unwrap().unwrap();
    assert_eq!(by_email, created);
    assert_eq!(by_id, created);
    assert_eq!(created.role, Role::Admin);
    assert!(store.user_by_email("nobody@example.com").await.unwrap().is_none());
}

async fn a_second_user_with_the_same_email_is_a_conflict(store: &dyn Store) {
    store.create_user("ada@example.com", "hash", Role::Admin).await.unwrap();
    let err = store.create_user("ada@example.com", "other", Role::Member).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let kept = store.user_by_email("ada@example.com").await.unwrap().unwrap();
    assert_eq!(kept.password_hash, "hash", "the first user is untouched");
}

async fn upserting_a_user_resets_its_password_and_role(store: &dyn Store) {
    let first = store.upsert_user("demo@example.com", "one", Role::Member).await.unwrap();
    let second = store.upsert_user("demo@example.com", "two", Role::Admin).await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(second.password_hash, "two");
    assert_eq!(second.role, Role::Admin);
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
    first.store.create_user("ada@example.com", "hash", Role::Admin).await.unwrap();
    drop(first);
    let second = app::store::open(&db.url).await.unwrap();
    assert!(second.store.user_by_email("ada@example.com").await.unwrap().is_some());
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
    let customer = NewCustomer {
        external_id: "cust-1".into(),
        intercom_id: None,
        name: "Acme".into(),
        domain: None,
        stage: None,
    };
    database.store.insert_customer(&customer).await.unwrap();
    let err = database.store.insert_customer(&customer).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
}
