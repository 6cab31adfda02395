//! The sync engine against the sandbox Intercom: what Skalin holds after a run equals
//! what the sandbox holds, record by record, whatever faults the sandbox injects.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use app::config::AppConfig;
use app::domain::{
    IntegrationSettings, ObjectStatus, PageRequest, RoleSource, RunRequest, RunStatus, RunTrigger, ScheduleState,
    SyncMode, SyncObject, SyncRun, WalkKind, Zone,
};
use app::integration::{Integration, CHURN_STAGE};
use app::intercom::{IntercomHosts, ScrollOptions};
use app::secrets::SecretKey;
use app::store::Store;
use app::sync::{EngineConfig, Outcome, RangeReads, SyncEngine};
use sandbox::{RunningSandbox, Sandbox, SandboxConfig, SANDBOX_TOKEN};
use serde_json::{json, Value};
use skalin_tests::*;

mod workspaces;

// ---------------------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------------------

struct Stage {
    sb: RunningSandbox,
    store: Arc<dyn Store>,
    integration: Integration,
    _db: Option<SqliteDb>,
}

/// A scroll left open by a failed page blocks the next one until it expires: a short
/// idle timeout keeps restarts quick.
fn small(seed: u64) -> SandboxConfig {
    SandboxConfig {
        companies: 60,
        contacts: 400,
        tickets: 60,
        seed,
        scroll_idle_timeout: Duration::from_secs(2),
        ..SandboxConfig::default()
    }
}

async fn stage(config: SandboxConfig) -> Stage {
    let db = fresh_sqlite();
    let url = db.url.clone();
    let mut stage = stage_on(config, &url).await;
    stage._db = Some(db);
    stage
}

async fn stage_on(config: SandboxConfig, database_url: &str) -> Stage {
    let sb = Sandbox::spawn(config).await.expect("start the sandbox");
    let store = skalin_tests::test_store(database_url).await;
    let integration = integration_for(&store, &sb.base_url);
    integration
        .connect_with_token(secrecy::SecretString::from(SANDBOX_TOKEN), Zone::Us, "ada@example.com")
        .await
        .expect("connect the sandbox");
    Stage { sb, store, integration, _db: None }
}

fn integration_for(store: &Arc<dyn Store>, base_url: &str) -> Integration {
    let config = AppConfig {
        public_url: "http://localhost".into(),
        secret_key: SecretKey([7; 32]),
        intercom_client_id: None,
        intercom_client_secret: None,
        intercom_hosts: IntercomHosts::single(base_url),
    };
    Integration::new(store.clone(), Arc::new(config))
}

/// Every mapping in use: fields of each type, a yes/no field and tags for the roles.
fn mapped_settings() -> IntegrationSettings {
    let mut s = IntegrationSettings::default();
    s.customers.id_field = Some("company_id".into());
    s.customers.domain_field = Some("website".into());
    s.customers.csm_owner_field = Some("custom_attributes.Sales Region".into());
    s.customers.stage_field = Some("custom_attributes.Tier".into());
    s.customers.profile_field = Some("plan.name".into());
    s.contacts.champion = Some(RoleSource::Tag("Champion".into()));
    s.contacts.sponsor = Some(RoleSource::Tag("Sponsor".into()));
    s.contacts.key_user = Some(RoleSource::Field("custom_attributes.Is Admin".into()));
    s.contacts.end_user = Some(RoleSource::Tag("End user".into()));
    s.interactions.import_window = app::domain::ImportWindow::All;
    s
}

impl Stage {
    async fn save(&self, settings: IntegrationSettings) {
        self.integration.save_settings(settings, "ada@example.com").await.expect("save the settings");
    }

    fn engine(&self, worker: &str) -> SyncEngine {
        engine_for(&self.store, self.integration.clone(), worker)
    }

    /// Queues a run and works it to its end, as *Sync now* and the worker do.
    async fn sync(&self, request: RunRequest) -> SyncRun {
        let engine = self.engine("worker-a");
        let (id, new) = engine.start(request, RunTrigger::Manual, "ada@example.com").await.expect("start a run");
        assert!(new, "no other run was going");
        assert_eq!(engine.run_once().await.expect("work the run"), Outcome::Worked(id));
        self.store.sync_run(id).await.unwrap().expect("the run is recorded")
    }

    async fn sync_all(&self) -> SyncRun {
        self.sync(RunRequest { objects: vec![], walk: None, dry_run: false }).await
    }
}

/// Full contact walks of 900 contacts or more are read in ranges here, so that the
/// bigger workspaces of these tests take that path and the small ones the single cursor.
const TEST_READS: RangeReads = RangeReads { concurrency: 4, pages_per_range: 3, max_ranges: 6 };
/// Never in ranges.
const ONE_CURSOR: RangeReads = RangeReads { concurrency: 1, pages_per_range: u64::MAX / 1_000, max_ranges: 1 };

fn engine_for(store: &Arc<dyn Store>, integration: Integration, worker: &str) -> SyncEngine {
    engine_reading(store, integration, worker, TEST_READS)
}

fn engine_reading(
    store: &Arc<dyn Store>,
    integration: Integration,
    worker: &str,
    range_reads: RangeReads,
) -> SyncEngine {
    let config = EngineConfig {
        worker: worker.into(),
        heartbeat_every: Duration::from_millis(300),
        stale_after: Duration::from_secs(2),
        full_every: Duration::from_secs(24 * 3600),
        poll_every: Duration::from_millis(100),
        concurrent_runs: 1,
        range_reads,
        // A walk that cannot finish gives up in seconds, not in the real-world minutes.
        scroll: ScrollOptions { restart_budget: Duration::from_secs(2), ..ScrollOptions::default() },
    };
    SyncEngine::new(store.clone(), integration, config)
}

fn counts_of(run: &SyncRun, object: SyncObject) -> app::domain::Counts {
    run.objects.iter().find(|o| o.object == object).map(|o| o.counts).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Skalin's data against the sandbox's, record by record
// ---------------------------------------------------------------------------------------

/// Every item of a paged list, page by page as the pages read them.
async fn every<T, F, Fut>(list: F) -> Vec<T>
where
    F: Fn(PageRequest) -> Fut,
    Fut: std::future::Future<Output = app::store::Result<app::domain::Page<T>>>,
{
    let mut out = Vec::new();
    for page in 1.. {
        let batch = list(PageRequest::new(Some(page), Some(PageRequest::MAX_PER_PAGE))).await.unwrap();
        let more = batch.has_next();
        out.extend(batch.items);
        if !more {
            break;
        }
    }
    out
}

async fn all_customers(store: &dyn Store) -> Vec<app::domain::Customer> {
    every(|page| store.list_customers(page)).await
}

async fn all_contacts(store: &dyn Store) -> Vec<app::domain::Contact> {
    every(|page| store.list_contacts(page)).await
}

async fn all_interactions(store: &dyn Store) -> Vec<app::domain::Interaction> {
    every(|page| store.list_interactions(page)).await
}

/// Equal maps, or a failure naming the first records that differ (not all of them).
fn assert_same<V: PartialEq + std::fmt::Debug>(
    what: &str,
    actual: &BTreeMap<String, V>,
    expected: &BTreeMap<String, V>,
) {
    let mut diffs = Vec::new();
    for (id, want) in expected {
        match actual.get(id) {
            None => diffs.push(format!("{id}: missing, expected {want:?}")),
            Some(got) if got != want => diffs.push(format!("{id}: got {got:?}, expected {want:?}")),
            Some(_) => {}
        }
    }
    for (id, got) in actual {
        if !expected.contains_key(id) {
            diffs.push(format!("{id}: not in Intercom, got {got:?}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{what}: {} differ:\n{}",
        diffs.len(),
        diffs.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}

fn s(v: &Value) -> Option<String> {
    app::sync::mapping::text(Some(v.clone()))
}

/// A customer as the comparisons see it: name, external ID, domain, CSM owner, stage, profile.
type ExpectedCustomer = (String, String, Option<String>, Option<String>, Option<String>, Option<String>);

/// What each Intercom company must be in Skalin under `mapped_settings`.
fn expected_customers(sb: &Sandbox) -> BTreeMap<String, ExpectedCustomer> {
    sb.companies_json()
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap().to_string();
            let external = s(&c["company_id"]).unwrap();
            let name = s(&c["name"]).unwrap();
            let domain = c["website"].as_str().and_then(app::sync::mapping::domain);
            let owner = s(&c["custom_attributes"]["Sales Region"]);
            let stage = s(&c["custom_attributes"]["Tier"]);
            let profile = s(&c["plan"]["name"]);
            (id, (external, name, domain, owner, stage, profile))
        })
        .collect()
}

async fn assert_customers_match(stage: &Stage) {
    let expected = expected_customers(&stage.sb.sandbox);
    let customers = all_customers(stage.store.as_ref()).await;
    let actual: BTreeMap<String, _> = customers
        .iter()
        .filter(|c| c.stage.as_deref() != Some(CHURN_STAGE))
        .map(|c| {
            let id = c.intercom_id.clone().expect("every synced customer keeps its Intercom id");
            (
                id,
                (
                    c.external_id.clone(),
                    c.name.clone(),
                    c.domain.clone(),
                    c.csm_owner.clone(),
                    c.stage.clone(),
                    c.profile.clone(),
                ),
            )
        })
        .collect();
    assert_same("customers", &actual, &expected);
    let ids: HashSet<_> = customers.iter().map(|c| c.intercom_id.clone()).collect();
    assert_eq!(ids.len(), customers.len(), "one customer per company, no duplicate");
}

fn role_of(sb: &Sandbox, contact: &Value) -> Option<String> {
    let tags: HashSet<String> = sb.contact_tag_names(contact["id"].as_str().unwrap()).into_iter().collect();
    if tags.contains("Champion") {
        Some("Champion".into())
    } else if tags.contains("Sponsor") {
        Some("Sponsor".into())
    } else if contact["custom_attributes"]["Is Admin"].as_bool() == Some(true) {
        Some("Key user".into())
    } else if tags.contains("End user") {
        Some("End user".into())
    } else {
        None
    }
}

/// A contact as the comparisons see it: email, customer's name, role.
type ExpectedContact = (Option<String>, Option<String>, Option<String>);

async fn assert_contacts_match(stage: &Stage) {
    let sb = &stage.sb.sandbox;
    let company_names: BTreeMap<String, String> =
        sb.companies_json().iter().map(|c| (c["id"].as_str().unwrap().to_string(), s(&c["name"]).unwrap())).collect();
    let expected: BTreeMap<String, ExpectedContact> = sb
        .contacts_json()
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap().to_string();
            let customer = sb.contact_company_ids(&id).first().and_then(|cid| company_names.get(cid).cloned());
            (id, (s(&c["email"]), customer, role_of(sb, c)))
        })
        .collect();
    let contacts = all_contacts(stage.store.as_ref()).await;
    let actual: BTreeMap<String, _> = contacts
        .iter()
        .map(|c| (c.intercom_id.clone().unwrap(), (c.email.clone(), c.customer_name.clone(), c.role_tag.clone())))
        .collect();
    assert_same("contacts", &actual, &expected);
    assert_eq!(contacts.len(), expected.len(), "one contact per live Intercom contact, no duplicate");
}

async fn assert_interactions_match(stage: &Stage) {
    let sb = &stage.sb.sandbox;
    let emails: BTreeMap<String, Option<String>> =
        sb.contacts_json().iter().map(|c| (c["id"].as_str().unwrap().to_string(), s(&c["email"]))).collect();
    let expected: BTreeMap<String, (String, Option<String>, i64)> = sb
        .tickets_json()
        .iter()
        .map(|t| {
            let contact = t["contacts"]["contacts"]
                .get(0)
                .and_then(|c| c["id"].as_str())
                .and_then(|id| emails.get(id).cloned().flatten());
            let title = s(&t["ticket_attributes"]["_default_title_"]).unwrap();
            (
                t["id"].as_str().map(str::to_string).unwrap_or_else(|| t["id"].to_string()),
                (title, contact, t["created_at"].as_i64().unwrap()),
            )
        })
        .collect();
    let interactions = all_interactions(stage.store.as_ref()).await;
    let actual: BTreeMap<String, _> = interactions
        .iter()
        .map(|i| (i.intercom_id.clone().unwrap(), (i.title.clone(), i.contact_email.clone(), i.created_at)))
        .collect();
    assert_same("interactions", &actual, &expected);
    assert_eq!(interactions.len(), expected.len(), "one interaction per ticket, no duplicate");
}

async fn assert_everything_matches(stage: &Stage) {
    assert_customers_match(stage).await;
    assert_contacts_match(stage).await;
    assert_interactions_match(stage).await;
}

// ---------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_first_run_brings_every_company_contact_and_ticket_with_the_saved_mappings() {
    let stage = stage(small(1)).await;
    stage.save(mapped_settings()).await;
    let run = stage.sync_all().await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(counts_of(&run, SyncObject::Customers).created, 60);
    assert_eq!(counts_of(&run, SyncObject::Contacts).created as usize, stage.sb.sandbox.contacts_json().len());
    assert_everything_matches(&stage).await;
}

#[tokio::test]
async fn a_second_run_changes_nothing_and_says_so() {
    let stage = stage(small(2)).await;
    stage.save(mapped_settings()).await;
    stage.sync_all().await;
    let second = stage.sync(RunRequest { objects: vec![], walk: Some(WalkKind::Full), dry_run: false }).await;
    assert_eq!(second.status, RunStatus::Success);
    let totals = second.totals();
    assert_eq!((totals.created, totals.updated, totals.churned, totals.failed), (0, 0, 0, 0), "{second:#?}");
    assert_eq!(counts_of(&second, SyncObject::Customers).unchanged, 60);
    assert_everything_matches(&stage).await;
}

#[tokio::test]
async fn an_incremental_run_reads_only_what_changed_in_intercom() {
    let stage = stage(small(3)).await;
    stage.save(mapped_settings()).await;
    stage.sync_all().await;
    let contact = stage.sb.sandbox.contact_ids()[5].clone();
    assert!(stage.sb.sandbox.update_contact(&contact, json!({"email": "new.address@example.com"})));
    assert!(stage.sb.sandbox.tag_contact(&contact, "Champion"));
    stage.sb.sandbox.reset_stats();
    let run = stage
        .sync(RunRequest { objects: vec![SyncObject::Contacts], walk: Some(WalkKind::Incremental), dry_run: false })
        .await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let contacts = run.objects.iter().find(|o| o.object == SyncObject::Contacts).unwrap();
    assert_eq!(contacts.walk, WalkKind::Incremental);
    assert_eq!(contacts.counts.updated, 1, "{contacts:#?}");
    assert!(contacts.done < 400, "read {} contacts, not all 400", contacts.done);
    assert_eq!(stage.sb.sandbox.stats().calls_to("GET /contacts"), 0, "no full list walk");
    assert_contacts_match(&stage).await;
}

#[tokio::test]
async fn objects_whose_mode_is_disabled_are_left_alone() {
    let stage = stage(small(4)).await;
    let mut settings = mapped_settings();
    settings.interactions.mode = SyncMode::Disabled;
    stage.save(settings).await;
    let run = stage.sync_all().await;
    let interactions = run.objects.iter().find(|o| o.object == SyncObject::Interactions).unwrap();
    assert_eq!(interactions.status, ObjectStatus::Skipped);
    assert!(all_interactions(stage.store.as_ref()).await.is_empty());
    assert_eq!(stage.sb.sandbox.stats().calls_to("POST /tickets/search"), 0);
}

#[tokio::test]
async fn a_dry_run_counts_what_it_would_do_and_writes_nothing() {
    let stage = stage(small(5)).await;
    stage.save(mapped_settings()).await;
    let run = stage.sync(RunRequest { objects: vec![], walk: None, dry_run: true }).await;
    assert!(run.dry_run);
    assert_eq!(counts_of(&run, SyncObject::Customers).created, 60);
    assert!(counts_of(&run, SyncObject::Contacts).created > 0);
    assert!(all_customers(stage.store.as_ref()).await.is_empty());
    assert!(all_contacts(stage.store.as_ref()).await.is_empty());
    let real = stage.sync_all().await;
    assert_eq!(counts_of(&real, SyncObject::Customers).created, 60, "the dry run left no cursor behind");
}

#[tokio::test]
async fn tickets_older_than_the_import_window_are_not_imported() {
    let stage = stage(small(6)).await;
    let mut settings = mapped_settings();
    settings.interactions.import_window = app::domain::ImportWindow::Days30;
    stage.save(settings).await;
    stage.sync_all().await;
    let cutoff = stage.sb.sandbox.now() - 30 * 86_400;
    let expected: HashSet<String> = stage
        .sb
        .sandbox
        .tickets_json()
        .iter()
        .filter(|t| t["created_at"].as_i64().unwrap() >= cutoff + 60)
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let actual: HashSet<String> =
        all_interactions(stage.store.as_ref()).await.into_iter().filter_map(|i| i.intercom_id).collect();
    assert!(expected.is_subset(&actual), "every ticket of the last 30 days is there");
    for interaction in all_interactions(stage.store.as_ref()).await {
        assert!(interaction.created_at >= cutoff - 60, "{interaction:?} is older than the window");
    }
}

#[tokio::test]
async fn a_company_without_the_mapped_id_is_a_failed_record_with_a_plain_message_and_is_retried() {
    let stage = stage(small(7)).await;
    let mut settings = mapped_settings();
    settings.customers.id_field = Some("custom_attributes.Sales Region".into());
    stage.save(settings).await;
    let run = stage.sync(RunRequest { objects: vec![SyncObject::Customers], walk: None, dry_run: false }).await;
    assert_eq!(run.status, RunStatus::Partial);
    let detail = stage.engine("worker-a").run_detail(run.id).await.unwrap();
    let failure = detail.failures.first().expect("a failed record is listed");
    assert!(failure.message.contains("Sales Region"), "{failure:?}");
    assert!(detail.failures.len() as u64 == counts_of(&run, SyncObject::Customers).failed);
}

// ---------------------------------------------------------------------------------------
// Faults: nothing lost, nothing duplicated
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn injected_server_errors_lose_and_duplicate_nothing_over_several_seeds() {
    let mut faults = 0;
    for seed in [11, 12, 13, 14, 15] {
        let stage = stage(SandboxConfig { fault_rate: 0.02, contacts: 6_000, tickets: 900, ..small(seed) }).await;
        stage.save(mapped_settings()).await;
        let run = stage.sync_all().await;
        assert_eq!(run.status, RunStatus::Success, "seed {seed}: {run:#?}");
        faults += stage.sb.sandbox.stats().faults_injected;
        assert_everything_matches(&stage).await;
    }
    assert!(faults > 0, "the seeds injected faults");
}

#[tokio::test]
async fn a_storm_of_429s_is_waited_out() {
    let stage = stage(small(14)).await;
    stage.save(mapped_settings()).await;
    stage.sb.sandbox.storm_429(6);
    let run = stage.sync_all().await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert!(stage.sb.sandbox.stats().rate_limited >= 6);
    assert_everything_matches(&stage).await;
}

#[tokio::test]
async fn a_scroll_that_fails_midway_or_expires_is_walked_again_from_the_start() {
    let stage = stage(SandboxConfig { companies: 250, ..small(15) }).await;
    stage.save(mapped_settings()).await;
    stage.sb.sandbox.fail_scroll_after_pages(1);
    let run = stage.sync(RunRequest { objects: vec![SyncObject::Customers], walk: None, dry_run: false }).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(counts_of(&run, SyncObject::Customers).created, 250);
    assert_customers_match(&stage).await;
}

#[tokio::test]
async fn contacts_written_just_before_a_run_are_caught_by_the_next_one_despite_the_search_index_delay() {
    let stage = stage(small(16)).await;
    stage.save(mapped_settings()).await;
    stage.sync_all().await;
    stage.sb.sandbox.set_search_index_delay(Duration::from_secs(2));
    let contact = stage.sb.sandbox.contact_ids()[9].clone();
    stage.sb.sandbox.update_contact(&contact, json!({"name": "Renamed Late"}));
    let incremental =
        RunRequest { objects: vec![SyncObject::Contacts], walk: Some(WalkKind::Incremental), dry_run: false };
    stage.sync(incremental.clone()).await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let run = stage.sync(incremental).await;
    assert_eq!(counts_of(&run, SyncObject::Contacts).updated, 1, "{run:#?}");
    let renamed = all_contacts(stage.store.as_ref())
        .await
        .into_iter()
        .find(|c| c.intercom_id.as_deref() == Some(&contact))
        .unwrap();
    assert_eq!(renamed.name, "Renamed Late");
}

#[tokio::test]
async fn a_run_killed_midway_through_one_contact_cursor_is_taken_over_and_ends_with_the_same_data() {
    killed_midway_then_taken_over(ONE_CURSOR, Cursors::Kept).await;
}

#[tokio::test]
async fn a_taken_over_run_whose_saved_cursors_intercom_no_longer_knows_reads_them_again_from_the_start() {
    killed_midway_then_taken_over(ONE_CURSOR, Cursors::Forgotten).await;
    killed_midway_then_taken_over(TEST_READS, Cursors::Forgotten).await;
}

#[tokio::test]
async fn a_run_killed_midway_through_contact_ranges_is_taken_over_and_ends_with_the_same_data() {
    killed_midway_then_taken_over(TEST_READS, Cursors::Kept).await;
}

#[derive(PartialEq)]
enum Cursors {
    Kept,
    /// Intercom no longer knows the cursors the dead worker saved (expired, or refused).
    Forgotten,
}

/// Waits until run `id` has done `at_least` records of `object`, while it is still going.
async fn wait_until_done(store: &dyn Store, id: i64, object: SyncObject, at_least: u64, then: &str) {
    loop {
        let run = store.sync_run(id).await.unwrap().unwrap();
        if run.objects.iter().find(|o| o.object == object).map_or(0, |o| o.done) >= at_least {
            return;
        }
        assert!(run.status.is_active(), "the run ended before it could be {then}: {run:#?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn killed_midway_then_taken_over(reads: RangeReads, cursors: Cursors) {
    let stage = stage(SandboxConfig { contacts: 1_500, latency: Duration::from_millis(5), ..small(17) }).await;
    stage.save(mapped_settings()).await;
    let first = engine_reading(&stage.store, stage.integration.clone(), "doomed", reads);
    let (id, _) = first
        .start(RunRequest { objects: vec![], walk: None, dry_run: false }, RunTrigger::Manual, "ada")
        .await
        .unwrap();
    let worker = tokio::spawn(async move { first.run_once().await });
    // Killed once some contacts are in: mid-object, with a checkpoint behind it.
    wait_until_done(stage.store.as_ref(), id, SyncObject::Contacts, 300, "killed").await;
    worker.abort();
    let _ = worker.await;
    let killed = stage.store.sync_run(id).await.unwrap().unwrap();
    assert_eq!(killed.status, RunStatus::Running, "the dead worker's run still looks running");
    if cursors == Cursors::Forgotten {
        let url = stage._db.as_ref().expect("a SQLite stage").url.clone();
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let spoiled = sqlx::query(
            r#"update sync_run_objects set cursor = replace(cursor, '"after":"', '"after":"stale') where run_id = ?"#,
        )
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
        assert!(spoiled.rows_affected() > 0, "a saved cursor to spoil");
    }

    let second = engine_reading(&stage.store, stage.integration.clone(), "rescuer", reads);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match second.run_once().await.unwrap() {
            Outcome::Worked(worked) => {
                assert_eq!(worked, id, "the abandoned run is the one taken over");
                break;
            }
            Outcome::Idle => {
                assert!(std::time::Instant::now() < deadline, "the run was never taken over");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let run = stage.store.sync_run(id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(
        counts_of(&run, SyncObject::Contacts).created as usize,
        stage.sb.sandbox.contacts_json().len(),
        "each contact counted once"
    );
    assert_everything_matches(&stage).await;
}

#[tokio::test]
async fn a_worker_whose_run_was_taken_over_while_it_worked_stops_without_touching_the_run() {
    let stage = stage(SandboxConfig { contacts: 1_500, latency: Duration::from_millis(5), ..small(20) }).await;
    stage.save(mapped_settings()).await;
    // It would not beat again before its end: only its writes can tell it the run is lost.
    let mut config = stage.engine("slow-beater").config().clone();
    config.heartbeat_every = Duration::from_secs(3_600);
    let old = SyncEngine::new(stage.store.clone(), stage.integration.clone(), config);
    let (id, _) =
        old.start(RunRequest { objects: vec![], walk: None, dry_run: false }, RunTrigger::Manual, "ada").await.unwrap();
    let worker = tokio::spawn(async move { old.run_once().await });
    wait_until_done(stage.store.as_ref(), id, SyncObject::Contacts, 300, "taken over").await;

    // Taken over as if the old worker had stopped beating long ago, while it goes on.
    let now = app::store::now();
    let taken = stage.store.claim_run("rescuer", now, now + 3_600, &[]).await.unwrap();
    assert_eq!(taken.map(|run| run.id), Some(id));
    let at_takeover = stage.store.sync_run(id).await.unwrap().unwrap();
    let contacts_at_takeover = all_contacts(stage.store.as_ref()).await.len();
    tokio::time::timeout(Duration::from_secs(60), worker)
        .await
        .expect("the old worker stops")
        .expect("the old worker does not panic")
        .expect("losing the run is no error of the worker");

    let after = stage.store.sync_run(id).await.unwrap().unwrap();
    assert_eq!(after.status, RunStatus::Running, "the run is still the rescuer's to end: {after:#?}");
    assert_eq!(after.objects, at_takeover.objects, "the old worker wrote no page, status or end");
    assert_eq!(all_contacts(stage.store.as_ref()).await.len(), contacts_at_takeover, "no record written");
    assert_eq!(stage.store.running_workers().await.unwrap(), ["rescuer"]);
}

#[tokio::test]
async fn a_run_killed_during_the_company_scroll_closes_the_scroll_it_left_open_instead_of_waiting_it_out() {
    // The real idle expiry: waiting it out would take a minute.
    let config = SandboxConfig {
        companies: 1_500,
        latency: Duration::from_millis(5),
        scroll_idle_timeout: Duration::from_secs(60),
        ..small(18)
    };
    let stage = stage(config).await;
    stage.save(mapped_settings()).await;
    let first = stage.engine("doomed");
    let (id, _) = first
        .start(RunRequest { objects: vec![], walk: None, dry_run: false }, RunTrigger::Manual, "ada")
        .await
        .unwrap();
    let worker = tokio::spawn(async move { first.run_once().await });
    wait_until_done(stage.store.as_ref(), id, SyncObject::Customers, 300, "killed").await;
    worker.abort();
    let _ = worker.await;

    // A rescuer that would rather fail than wait for the open scroll.
    let mut config = stage.engine("rescuer").config().clone();
    config.scroll = ScrollOptions { busy_wait: Duration::from_millis(1), busy_attempts: 0, ..config.scroll };
    let rescuer = SyncEngine::new(stage.store.clone(), stage.integration.clone(), config);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while rescuer.run_once().await.unwrap() != Outcome::Worked(id) {
        assert!(std::time::Instant::now() < deadline, "the run was never taken over");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let run = stage.store.sync_run(id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(counts_of(&run, SyncObject::Customers).created, 1_500, "each customer counted once");
    assert_everything_matches(&stage).await;
}

#[tokio::test]
async fn a_company_scroll_that_cannot_finish_ends_the_run_partial_with_its_restarts_told() {
    let stage = stage(SandboxConfig { companies: 250, ..small(19) }).await;
    stage.save(mapped_settings()).await;
    stage.sb.sandbox.fail_scrolls_after_pages(1, 1_000_000);
    let run = stage.sync_all().await;
    assert_eq!(run.status, RunStatus::Partial, "{run:#?}");
    let customers = run.objects.iter().find(|o| o.object == SyncObject::Customers).unwrap();
    assert_eq!(customers.status, ObjectStatus::Failed);
    let message = customers.message.as_deref().unwrap_or_default();
    assert!(message.contains("restarted") && message.contains("2 s budget for restarts"), "{message}");
    let contacts = run.objects.iter().find(|o| o.object == SyncObject::Contacts).unwrap();
    assert_eq!(contacts.status, ObjectStatus::Done, "the other objects go on");
}

#[tokio::test]
async fn a_company_scroll_that_restarted_says_so_in_the_run_detail() {
    let stage = stage(SandboxConfig { companies: 250, ..small(20) }).await;
    stage.save(mapped_settings()).await;
    stage.sb.sandbox.fail_scroll_after_pages(1);
    let run = stage.sync(RunRequest { objects: vec![SyncObject::Customers], walk: None, dry_run: false }).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let message = run.objects[0].message.as_deref().unwrap_or_default();
    assert!(message.contains("The company scroll was restarted 1 time"), "{message}");
}

// ---------------------------------------------------------------------------------------
// Contacts read in ranges of creation days
// ---------------------------------------------------------------------------------------

/// A full walk of 2,000 contacts, read in ranges, brings each contact once.
async fn walk_in_ranges(stage: &Stage, what: &str) {
    stage.save(mapped_settings()).await;
    let run = stage.sync_all().await;
    assert_eq!(run.status, RunStatus::Success, "{what}: {run:#?}");
    let live = stage.sb.sandbox.contacts_json().len();
    assert_eq!(counts_of(&run, SyncObject::Contacts).created as usize, live, "{what}: each contact counted once");
    let done = run.objects.iter().find(|o| o.object == SyncObject::Contacts).map(|o| o.done);
    assert_eq!(done, Some(live as u64), "{what}: each contact read into one range only");
    let stats = stage.sb.sandbox.stats();
    assert_eq!(stats.calls_to("GET /contacts"), 1, "{what}: one page of the single cursor, to learn the total");
    let searches = stats.calls_to("POST /contacts/search") as usize;
    let ranges = TEST_READS.max_ranges;
    assert!(searches > ranges, "{what}: the contacts were read through search ranges ({searches} searches)");
    assert!(
        searches <= live.div_ceil(150) + ranges + 1,
        "{what}: {searches} searches for {live} contacts in {ranges} ranges"
    );
    assert_contacts_match(stage).await;
}

#[tokio::test]
async fn a_big_full_walk_reads_contacts_in_ranges_and_each_contact_once_whatever_the_time_zone() {
    // Ranges meet at the workspace's midnights: any zone's day boundary must line up.
    for zone in ["Europe/Paris", "Asia/Kolkata", "America/St_Johns", "Pacific/Kiritimati"] {
        let stage = stage(SandboxConfig { contacts: 2_000, timezone: zone.into(), ..small(21) }).await;
        walk_in_ranges(&stage, zone).await;
    }
}

#[tokio::test]
async fn contact_ranges_stay_exact_when_intercom_matches_dates_by_the_second() {
    let stage = stage(SandboxConfig { contacts: 2_000, ..small(22) }).await;
    stage.sb.sandbox.set_contact_dates_by_second(true);
    walk_in_ranges(&stage, "dates by the second").await;
}

#[tokio::test]
async fn contact_ranges_widen_and_keep_their_own_contacts_when_the_time_zone_is_unknown() {
    // `GET /me` names a zone Skalin does not know; the sandbox then draws days in UTC.
    let stage = stage(SandboxConfig { contacts: 2_000, timezone: "Mars/Olympus_Mons".into(), ..small(23) }).await;
    walk_in_ranges(&stage, "unknown zone").await;
}

#[tokio::test]
async fn a_big_full_walk_reads_tickets_in_ranges_and_each_ticket_once_whether_or_not_bounds_are_inclusive() {
    for inclusive in [true, false] {
        let stage = stage(SandboxConfig { tickets: 1_500, ..small(24) }).await;
        stage.sb.sandbox.set_ticket_search_gt_inclusive(inclusive);
        stage.save(mapped_settings()).await;
        let run = stage.sync_all().await;
        assert_eq!(run.status, RunStatus::Success, "inclusive {inclusive}: {run:#?}");
        let tickets = stage.sb.sandbox.tickets_json().len();
        let report = run.objects.iter().find(|o| o.object == SyncObject::Interactions).expect("tickets were walked");
        assert_eq!(report.counts.created as usize, tickets, "inclusive {inclusive}: each ticket counted once");
        assert_eq!(report.done as usize, tickets, "inclusive {inclusive}: each ticket read into one range only");
        let searches = stage.sb.sandbox.stats().calls_to("POST /tickets/search") as usize;
        let ranges = tickets / (150 * TEST_READS.pages_per_range as usize);
        // One cursor would take exactly ⌈n/150⌉ pages; ranges read the first page again.
        assert!(
            searches > tickets.div_ceil(150),
            "inclusive {inclusive}: the tickets were read in ranges ({searches} searches)"
        );
        assert!(
            searches <= tickets.div_ceil(150) + ranges + 1,
            "inclusive {inclusive}: {searches} searches for {tickets} tickets"
        );
        assert_interactions_match(&stage).await;
    }
}

// ---------------------------------------------------------------------------------------
// Churn
// ---------------------------------------------------------------------------------------

fn with_churn(max_percent: u8) -> IntegrationSettings {
    let mut settings = mapped_settings();
    settings.customers.churn_enabled = true;
    settings.customers.churn_max_percent = max_percent;
    settings
}

#[tokio::test]
async fn a_company_gone_from_intercom_makes_its_customer_churn_without_deleting_it() {
    let stage = stage(small(21)).await;
    stage.save(with_churn(10)).await;
    stage.sync_all().await;
    let gone = stage.sb.sandbox.company_ids()[3].clone();
    assert!(stage.sb.sandbox.delete_company(&gone));
    let run = stage.sync(RunRequest { objects: vec![SyncObject::Customers], walk: None, dry_run: false }).await;
    assert_eq!(counts_of(&run, SyncObject::Customers).churned, 1, "{run:#?}");
    let customers = all_customers(stage.store.as_ref()).await;
    assert_eq!(customers.len(), 60, "churned customers are kept");
    let churned = customers.iter().find(|c| c.intercom_id.as_deref() == Some(&gone)).unwrap();
    assert_eq!(churned.stage.as_deref(), Some(CHURN_STAGE));
    assert_customers_match(&stage).await;
}

#[tokio::test]
async fn above_the_threshold_the_run_waits_for_an_admin_and_lists_who_would_churn() {
    let stage = stage(small(22)).await;
    stage.save(with_churn(10)).await;
    stage.sync_all().await;
    let gone: Vec<String> = stage.sb.sandbox.company_ids().into_iter().take(8).collect();
    for id in &gone {
        stage.sb.sandbox.delete_company(id);
    }
    let run = stage.sync_all().await;
    assert_eq!(run.status, RunStatus::AwaitingConfirmation, "{run:#?}");
    let customers = run.objects.iter().find(|o| o.object == SyncObject::Customers).unwrap();
    let listed: HashSet<String> = customers.churn.iter().map(|c| c.intercom_id.clone()).collect();
    assert_eq!(listed, gone.iter().cloned().collect());
    assert!(
        all_customers(stage.store.as_ref()).await.iter().all(|c| c.stage.as_deref() != Some(CHURN_STAGE)),
        "no one churned yet"
    );
    assert_eq!(
        run.objects.iter().find(|o| o.object == SyncObject::Contacts).unwrap().status,
        ObjectStatus::Done,
        "the rest of the run went on"
    );

    let confirmed = stage.engine("worker-a").confirm_churn(run.id, "ada@example.com").await.unwrap();
    assert_eq!(confirmed.status, RunStatus::Success);
    assert_eq!(counts_of(&confirmed, SyncObject::Customers).churned, 8);
    let churned = all_customers(stage.store.as_ref())
        .await
        .into_iter()
        .filter(|c| c.stage.as_deref() == Some(CHURN_STAGE))
        .count();
    assert_eq!(churned, 8);
    assert!(stage.engine("worker-a").confirm_churn(run.id, "ada@example.com").await.is_err(), "confirmed once only");
}

#[tokio::test]
async fn a_walk_that_fails_midway_churns_no_one() {
    let stage = stage(SandboxConfig { companies: 250, ..small(23) }).await;
    stage.save(with_churn(100)).await;
    stage.sync_all().await;
    stage.sb.sandbox.fail_scrolls_after_pages(1, 1_000_000);
    let run = stage.sync(RunRequest { objects: vec![SyncObject::Customers], walk: None, dry_run: false }).await;
    assert_eq!(run.status, RunStatus::Failed, "{run:#?}");
    assert_eq!(counts_of(&run, SyncObject::Customers).churned, 0);
    assert!(all_customers(stage.store.as_ref()).await.iter().all(|c| c.stage.as_deref() != Some(CHURN_STAGE)));
}

#[tokio::test]
async fn a_dry_run_lists_who_would_churn_and_churns_no_one() {
    let stage = stage(small(24)).await;
    stage.save(with_churn(50)).await;
    stage.sync_all().await;
    let gone = stage.sb.sandbox.company_ids()[0].clone();
    stage.sb.sandbox.delete_company(&gone);
    let run = stage.sync(RunRequest { objects: vec![SyncObject::Customers], walk: None, dry_run: true }).await;
    let customers = run.objects.iter().find(|o| o.object == SyncObject::Customers).unwrap();
    assert_eq!(customers.churn.iter().map(|c| c.intercom_id.clone()).collect::<Vec<_>>(), vec![gone]);
    assert!(all_customers(stage.store.as_ref()).await.iter().all(|c| c.stage.as_deref() != Some(CHURN_STAGE)));
}

// ---------------------------------------------------------------------------------------
// Runs: one at a time, scheduled once across processes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn sync_now_while_a_run_is_queued_answers_that_run() {
    let stage = stage(small(31)).await;
    let engine = stage.engine("worker-a");
    let request = RunRequest { objects: vec![], walk: None, dry_run: false };
    let (first, new) = engine.start(request.clone(), RunTrigger::Manual, "ada").await.unwrap();
    assert!(new);
    let (second, new) = engine.start(request, RunTrigger::Manual, "ada").await.unwrap();
    assert_eq!((second, new), (first, false));
}

#[tokio::test]
async fn two_server_processes_on_postgresql_run_one_scheduled_sync_once() {
    let Some(db) = fresh_postgres("two_server_processes_on_postgresql_run_one_scheduled_sync_once").await else {
        return;
    };
    let stage = stage_on(small(32), &db.url).await;
    let mut settings = mapped_settings();
    settings.schedule.every_minutes = Some(15);
    stage.save(settings).await;
    // A second process: its own pool on the same database.
    let other_store = skalin_tests::test_store(&db.url).await;
    let other = engine_for(&other_store, integration_for(&other_store, &stage.sb.base_url), "process-b");
    let this = stage.engine("process-a");
    stage.sb.sandbox.reset_stats();

    let now = app::store::now();
    let (a, b) = tokio::join!(this.enqueue_due(now), other.enqueue_due(now));
    let queued: Vec<i64> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(queued.len(), 1, "one process queued the slot's run");
    let (a, b) = tokio::join!(this.run_once(), other.run_once());
    let worked: Vec<Outcome> = [a.unwrap(), b.unwrap()].into_iter().filter(|o| *o != Outcome::Idle).collect();
    assert_eq!(worked, vec![Outcome::Worked(queued[0])]);
    assert_eq!(this.enqueue_due(now + 1).await.unwrap(), None, "the slot runs once");
    let runs = stage.store.sync_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Success, "{:#?}", runs[0]);
    assert_eq!(runs[0].trigger, RunTrigger::Schedule);
    let pages = 60usize.div_ceil(100) + 1;
    assert!(stage.sb.sandbox.stats().calls_to("GET /companies/scroll") as usize <= pages + 1, "companies walked once");
    assert_everything_matches(&stage).await;
    drop(stage);
    drop_postgres(db).await;
}

// ---------------------------------------------------------------------------------------
// Output and Two-ways
// ---------------------------------------------------------------------------------------

/// Customers, by Intercom id, as Skalin holds them after a first import.
async fn customers_by_intercom_id(store: &dyn Store) -> BTreeMap<String, app::domain::Customer> {
    all_customers(store).await.into_iter().filter_map(|c| Some((c.intercom_id.clone()?, c))).collect()
}

async fn edit_stage(stage: &Stage, customer: &app::domain::Customer, value: Option<&str>) {
    let edit = app::domain::CustomerEdit {
        stage: value.map(Into::into),
        csm_owner: customer.csm_owner.clone(),
        csm_pulse: customer.csm_pulse.clone(),
        health_score: customer.health_score,
    };
    assert!(stage.store.edit_customer(customer.id, &edit, "ada@example.com", app::store::now()).await.unwrap());
}

fn tier_in_intercom(sb: &Sandbox, id: &str) -> Option<String> {
    s(&sb.company_json(id).unwrap()["custom_attributes"]["Tier"])
}

fn with_mode(customers: SyncMode, contacts: SyncMode) -> IntegrationSettings {
    let mut settings = mapped_settings();
    settings.customers.mode = customers;
    settings.contacts.mode = contacts;
    // Writing modes need an ID Skalin can write: every sandbox contact has an email.
    settings.contacts.id_field = Some("email".into());
    settings
}

#[tokio::test]
async fn output_only_makes_intercom_hold_skalin_s_values_record_by_record() {
    let stage = stage(small(41)).await;
    stage.save(mapped_settings()).await;
    stage.sync_all().await;
    let mut output = with_mode(SyncMode::OutputOnly, SyncMode::OutputOnly);
    output.data_transfer.upload_scores = true;
    stage.save(output).await;
    let customers = customers_by_intercom_id(stage.store.as_ref()).await;
    for (n, customer) in customers.values().enumerate().take(20) {
        let edit = app::domain::CustomerEdit {
            stage: Some(format!("Stage {}", n % 3)),
            csm_owner: Some(format!("owner{}@skalin.io", n % 4)),
            csm_pulse: Some(["good", "bad"][n % 2].to_string()),
            health_score: Some(50 + n as i64),
        };
        stage.store.edit_customer(customer.id, &edit, "ada@example.com", app::store::now()).await.unwrap();
    }
    let run = stage.sync_all().await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(counts_of(&run, SyncObject::Customers).updated, 20, "{run:#?}");

    let sb = &stage.sb.sandbox;
    for (id, customer) in customers_by_intercom_id(stage.store.as_ref()).await {
        let company = sb.company_json(&id).unwrap();
        assert_eq!(s(&company["custom_attributes"]["Tier"]), customer.stage, "stage of {id}");
        assert_eq!(s(&company["custom_attributes"]["Sales Region"]), customer.csm_owner, "CSM owner of {id}");
        assert_eq!(s(&company["custom_attributes"]["Skalin CSM Pulse"]), customer.csm_pulse, "CSM Pulse of {id}");
        assert_eq!(
            company["custom_attributes"]["Skalin Healthscore"].as_i64(),
            customer.health_score,
            "Healthscore of {id}"
        );
    }
    sb.reset_stats();
    let again = stage.sync_all().await;
    assert_eq!(again.totals().updated, 0, "{again:#?}");
    assert_eq!(sb.stats().calls_to("PUT /companies/{id}"), 0, "nothing left to write");
}

#[tokio::test]
async fn output_only_never_imports_intercom_s_companies() {
    let stage = stage(small(42)).await;
    stage.save(with_mode(SyncMode::OutputOnly, SyncMode::Disabled)).await;
    let run = stage.sync_all().await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert!(all_customers(stage.store.as_ref()).await.is_empty());
}

#[tokio::test]
async fn in_two_ways_the_later_change_wins_field_by_field_and_an_empty_value_never_overwrites() {
    let stage = stage(small(43)).await;
    stage.save(with_mode(SyncMode::TwoWays, SyncMode::TwoWays)).await;
    stage.sync_all().await;
    let sb = &stage.sb.sandbox;
    let customers = customers_by_intercom_id(stage.store.as_ref()).await;
    let ids: Vec<&String> = customers.keys().collect();
    let (skalin_only, intercom_only, both_intercom_later, both_skalin_later, skalin_cleared) =
        (ids[0], ids[1], ids[2], ids[3], ids[4]);
    let now = app::store::now();

    // Intercom's change well before Skalin's edit of the same field.
    sb.set_now(now - 100);
    sb.update_company(both_skalin_later, json!({"custom_attributes": {"Tier": "From Intercom, earlier"}}));
    edit_stage(&stage, &customers[both_skalin_later], Some("From Skalin, later")).await;
    edit_stage(&stage, &customers[skalin_only], Some("From Skalin")).await;
    edit_stage(&stage, &customers[both_intercom_later], Some("From Skalin, earlier")).await;
    edit_stage(&stage, &customers[skalin_cleared], None).await;
    // Intercom's change after Skalin's.
    sb.set_now(now + 100);
    sb.update_company(both_intercom_later, json!({"custom_attributes": {"Tier": "From Intercom, later"}}));
    sb.update_company(intercom_only, json!({"custom_attributes": {"Tier": "From Intercom"}}));

    let run = stage.sync_all().await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let after = customers_by_intercom_id(stage.store.as_ref()).await;
    let expect = [
        (skalin_only, "From Skalin"),
        (intercom_only, "From Intercom"),
        (both_intercom_later, "From Intercom, later"),
        (both_skalin_later, "From Skalin, later"),
    ];
    for (id, value) in expect {
        assert_eq!(after[id].stage.as_deref(), Some(value), "Skalin's stage of {id}");
        assert_eq!(tier_in_intercom(sb, id).as_deref(), Some(value), "Intercom's Tier of {id}");
    }
    let kept = customers[skalin_cleared].stage.clone();
    assert!(kept.is_some());
    assert_eq!(after[skalin_cleared].stage, kept, "a cleared field does not wipe Intercom's value");
    assert_eq!(tier_in_intercom(sb, skalin_cleared), kept);
    assert_customers_match(&stage).await;

    // Our own writes do not come back as changes, and a second run changes nothing.
    sb.reset_stats();
    let second = stage.sync(RunRequest { objects: vec![], walk: Some(WalkKind::Full), dry_run: false }).await;
    let totals = second.totals();
    assert_eq!((totals.created, totals.updated, totals.failed), (0, 0, 0), "{second:#?}");
    assert_eq!(sb.stats().calls_to("PUT /companies/{id}"), 0);
}

#[tokio::test]
async fn a_role_set_in_skalin_reaches_intercom_as_tags_and_fields_and_settles() {
    let stage = stage(small(44)).await;
    stage.save(with_mode(SyncMode::TwoWays, SyncMode::TwoWays)).await;
    stage.sync_all().await;
    let sb = &stage.sb.sandbox;
    let contacts = all_contacts(stage.store.as_ref()).await;
    let champion = contacts.iter().find(|c| c.role_tag.as_deref() == Some("Key user")).expect("a key user to promote");
    let demoted = contacts.iter().find(|c| c.role_tag.as_deref() == Some("Sponsor")).expect("a sponsor to demote");
    let edit = |role: Option<&str>| app::domain::ContactEdit { role_tag: role.map(Into::into) };
    stage.store.edit_contact(champion.id, &edit(Some("Champion")), "ada", app::store::now()).await.unwrap();
    stage.store.edit_contact(demoted.id, &edit(Some("End user")), "ada", app::store::now()).await.unwrap();

    let run = stage
        .sync(RunRequest { objects: vec![SyncObject::Contacts], walk: Some(WalkKind::Incremental), dry_run: false })
        .await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let champion_id = champion.intercom_id.clone().unwrap();
    let demoted_id = demoted.intercom_id.clone().unwrap();
    assert!(sb.contact_tag_names(&champion_id).contains(&"Champion".to_string()));
    assert_eq!(sb.contact_json(&champion_id).unwrap()["custom_attributes"]["Is Admin"], json!(false));
    let tags = sb.contact_tag_names(&demoted_id);
    assert!(tags.contains(&"End user".to_string()) && !tags.contains(&"Sponsor".to_string()), "{tags:?}");
    assert_contacts_match(&stage).await;

    sb.reset_stats();
    let second = stage
        .sync(RunRequest { objects: vec![SyncObject::Contacts], walk: Some(WalkKind::Full), dry_run: false })
        .await;
    assert_eq!(second.totals().updated, 0, "{second:#?}");
    assert_eq!(
        sb.stats().calls_to("POST /contacts/{id}/tags") + sb.stats().calls_to("DELETE /contacts/{id}/tags/{tag_id}"),
        0
    );
}

#[tokio::test]
async fn customers_intercom_does_not_know_become_companies_only_when_chosen() {
    let stage = stage(small(45)).await;
    let mut settings = with_mode(SyncMode::OutputOnly, SyncMode::Disabled);
    stage.save(settings.clone()).await;
    let new = app::domain::NewCustomer {
        external_id: "sk-new-1".into(),
        intercom_id: None,
        name: "Brand New Ltd".into(),
        domain: Some("brandnew.example.com".into()),
        stage: Some("Onboarding".into()),
    };
    stage.store.insert_customer(&new).await.unwrap();
    stage.sync_all().await;
    assert_eq!(stage.sb.sandbox.companies_json().len(), 60, "off by default: nothing created");

    settings.customers.create_in_intercom = true;
    stage.save(settings).await;
    let run = stage.sync_all().await;
    assert_eq!(counts_of(&run, SyncObject::Customers).created, 1, "{run:#?}");
    let created = stage
        .sb
        .sandbox
        .companies_json()
        .into_iter()
        .find(|c| c["company_id"] == "sk-new-1")
        .expect("the company exists");
    assert_eq!(created["name"], "Brand New Ltd");
    assert_eq!(created["custom_attributes"]["Tier"], "Onboarding");
    let customer = all_customers(stage.store.as_ref()).await.into_iter().find(|c| c.external_id == "sk-new-1").unwrap();
    assert_eq!(customer.intercom_id.as_deref(), created["id"].as_str());
    let again = stage.sync_all().await;
    assert_eq!(counts_of(&again, SyncObject::Customers).created, 0, "created once");
}

#[tokio::test]
async fn contacts_intercom_does_not_know_become_users_there_with_their_company_and_role_only_when_chosen() {
    let stage = stage(small(46)).await;
    let mut settings = with_mode(SyncMode::TwoWays, SyncMode::TwoWays);
    stage.save(settings.clone()).await;
    stage.sync_all().await;
    let customer = all_customers(stage.store.as_ref())
        .await
        .into_iter()
        .find(|c| c.intercom_id.is_some())
        .expect("a customer from Intercom");
    let company = customer.intercom_id.clone().unwrap();
    let new = app::domain::NewContact {
        external_id: "nora@skalin.example".into(),
        intercom_id: None,
        name: "Nora Skalin".into(),
        email: Some("nora@skalin.example".into()),
        customer_external_id: Some(customer.external_id.clone()),
    };
    let id = stage.store.insert_contact(&new).await.unwrap();
    let champion = app::domain::ContactEdit { role_tag: Some("Champion".into()) };
    stage.store.edit_contact(id, &champion, "ada", app::store::now()).await.unwrap();
    let contacts_only = RunRequest { objects: vec![SyncObject::Contacts], walk: None, dry_run: false };
    stage.sync(contacts_only.clone()).await;
    assert_eq!(stage.sb.sandbox.stats().calls_to("POST /contacts"), 0, "off by default: nothing created");

    settings.contacts.create_in_intercom = true;
    stage.save(settings).await;
    let dry = stage.sync(RunRequest { dry_run: true, ..contacts_only.clone() }).await;
    assert_eq!(counts_of(&dry, SyncObject::Contacts).created, 1, "a dry run counts it: {dry:#?}");
    assert_eq!(stage.sb.sandbox.stats().calls_to("POST /contacts"), 0, "a dry run creates nothing");

    let run = stage.sync(contacts_only.clone()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(counts_of(&run, SyncObject::Contacts).created, 1, "{run:#?}");
    let created = stage
        .sb
        .sandbox
        .contacts_json()
        .into_iter()
        .find(|c| c["email"] == "nora@skalin.example")
        .expect("the contact exists in Intercom");
    let intercom_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["name"], "Nora Skalin");
    assert_eq!(created["role"], "user");
    assert_eq!(stage.sb.sandbox.contact_company_ids(&intercom_id), vec![company], "attached to its customer's company");
    assert!(stage.sb.sandbox.contact_tag_names(&intercom_id).contains(&"Champion".to_string()), "its role went along");
    let row = all_contacts(stage.store.as_ref()).await.into_iter().find(|c| c.id == id).unwrap();
    assert_eq!(row.intercom_id.as_deref(), Some(intercom_id.as_str()));

    let again = stage.sync(RunRequest { walk: Some(WalkKind::Full), ..contacts_only }).await;
    assert_eq!(counts_of(&again, SyncObject::Contacts).created, 0, "created once: {again:#?}");
    assert_eq!(stage.sb.sandbox.stats().calls_to("POST /contacts"), 1);
    assert_contacts_match(&stage).await;
}

#[tokio::test]
async fn a_contact_intercom_already_has_under_the_same_id_is_taken_as_it_is_not_created_twice() {
    let stage = stage(small(47)).await;
    let mut settings = with_mode(SyncMode::TwoWays, SyncMode::TwoWays);
    settings.contacts.create_in_intercom = true;
    stage.save(settings).await;
    stage.sync_all().await;
    // Someone adds the contact in Intercom too; search does not show it yet, so the next
    // incremental walk misses it and the creation meets it.
    stage.sb.sandbox.set_search_index_delay(Duration::from_secs(600));
    let made_in_intercom: Value = reqwest::Client::new()
        .post(format!("{}/contacts", stage.sb.base_url))
        .bearer_auth(SANDBOX_TOKEN)
        .json(&json!({"email": "twice@skalin.example", "name": "Made Twice"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new = app::domain::NewContact {
        external_id: "twice@skalin.example".into(),
        intercom_id: None,
        name: "Made Twice".into(),
        email: Some("twice@skalin.example".into()),
        customer_external_id: None,
    };
    let id = stage.store.insert_contact(&new).await.unwrap();
    let run = stage
        .sync(RunRequest { objects: vec![SyncObject::Contacts], walk: Some(WalkKind::Incremental), dry_run: false })
        .await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let same_email =
        stage.sb.sandbox.contacts_json().into_iter().filter(|c| c["email"] == "twice@skalin.example").count();
    assert_eq!(same_email, 1, "Intercom holds the contact once");
    let row = all_contacts(stage.store.as_ref()).await.into_iter().find(|c| c.id == id).unwrap();
    assert_eq!(row.intercom_id.as_deref(), made_in_intercom["id"].as_str(), "Skalin's contact is linked to it");
}

#[tokio::test]
async fn a_new_contact_whose_email_intercom_has_under_another_id_is_a_plain_failure_and_stays_in_skalin() {
    let stage = stage(small(48)).await;
    let mut settings = with_mode(SyncMode::TwoWays, SyncMode::TwoWays);
    settings.contacts.id_field = Some("external_id".into());
    settings.contacts.create_in_intercom = true;
    stage.save(settings).await;
    let taken = stage.sb.sandbox.contacts_json().into_iter().find(|c| c["role"] == "user").expect("a user in Intercom");
    let new = app::domain::NewContact {
        external_id: "sk-clash-1".into(),
        intercom_id: None,
        name: "Clash".into(),
        email: taken["email"].as_str().map(str::to_string),
        customer_external_id: None,
    };
    let id = stage.store.insert_contact(&new).await.unwrap();
    let run = stage.sync(RunRequest { objects: vec![SyncObject::Contacts], walk: None, dry_run: false }).await;
    let failures = stage.store.run_failures(run.id, 500).await.unwrap();
    let clash = failures.iter().find(|f| f.intercom_id == "skalin:sk-clash-1").expect("the clash is a failed record");
    assert!(
        clash.message.contains("under another ID") && clash.message.contains(taken["id"].as_str().unwrap()),
        "{}",
        clash.message
    );
    let row =
        all_contacts(stage.store.as_ref()).await.into_iter().find(|c| c.id == id).expect("the contact stays in Skalin");
    assert_eq!(row.intercom_id, None);
    let same_email = stage.sb.sandbox.contacts_json().into_iter().filter(|c| c["email"] == taken["email"]).count();
    assert_eq!(same_email, 1, "nothing was created in Intercom");
}

#[tokio::test]
async fn a_revoked_token_fails_the_run_plainly_and_marks_the_connection_for_reconnect() {
    let stage = stage(small(33)).await;
    let mut settings = mapped_settings();
    settings.schedule.every_minutes = Some(15);
    stage.save(settings).await;
    stage.sb.sandbox.revoke_tokens();
    let run = stage.sync_all().await;
    assert_eq!(run.status, RunStatus::Failed, "{run:#?}");
    let customers = run.objects.iter().find(|o| o.object == SyncObject::Customers).unwrap();
    assert!(customers.message.as_deref().is_some_and(|m| m.contains("reconnect")), "{customers:#?}");
    let contacts = run.objects.iter().find(|o| o.object == SyncObject::Contacts).unwrap();
    assert_eq!(contacts.status, ObjectStatus::Failed, "nothing more is tried once the token is refused");
    assert!(stage.store.intercom_connection().await.unwrap().unwrap().needs_reconnect);
    let calls_before = stage.sb.sandbox.stats().total_calls;
    assert!(
        stage.engine("worker-b").enqueue_due(app::store::now()).await.unwrap().is_none(),
        "no scheduled run while reconnect is needed"
    );
    assert_eq!(stage.sb.sandbox.stats().total_calls, calls_before);
    match stage.engine("worker-b").schedule(app::store::now()).await.unwrap() {
        ScheduleState::Paused { label, reason } => {
            assert_eq!(label, "Every 15 minutes");
            assert!(reason.contains("reconnect"), "{reason}");
        }
        other => panic!("the schedule should say it is paused: {other:?}"),
    }
}

#[tokio::test]
async fn the_schedule_says_when_its_next_run_starts_once_one_is_set() {
    let stage = stage(small(34)).await;
    let engine = stage.engine("worker-a");
    assert_eq!(engine.schedule(1_000).await.unwrap(), ScheduleState::Off);
    let mut settings = mapped_settings();
    settings.schedule.every_minutes = Some(60);
    stage.save(settings).await;
    assert_eq!(
        engine.schedule(1_000).await.unwrap(),
        ScheduleState::On { label: "Every 1 hour".into(), next_at: 3_600 }
    );
}
