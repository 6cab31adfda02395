//! The sandbox Intercom answers with bodies that the official 2.16 OpenAPI description
//! accepts, operation by operation, and with 2.14 bodies that the 2.14 description
//! accepts when a client asks for 2.14.
//!
//! The descriptions are read from `openapi/2.16.json` and `openapi/2.14.json`: extracts
//! of Intercom's own files holding only the operations in [`CHECKED`] and the schemas
//! they reach, made by `scripts/extract-openapi.py` (see `openapi/README.md`).
//!
//! Where the description is known to be wrong about real traffic (docs/intercom.md §14
//! says which), the test names the allowance it makes, and the allowance only replaces
//! the one schema node that is wrong; see [`Allowance`].

mod openapi;

use std::sync::OnceLock;

use openapi::{Patch, Spec};
use reqwest::{Client, Method};
use sandbox::{RunningSandbox, Sandbox, SandboxConfig, SANDBOX_TOKEN};
use serde_json::{json, Value};

/// The extracts, kept in the repository as test data.
const SPEC_2_16: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/openapi/2.16.json");
const SPEC_2_14: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/openapi/2.14.json");

/// Said when the extract lacks something a test asks for.
const REGENERATE: &str = "the extract holds only what scripts/extract-openapi.py keeps (its OPERATIONS and \
                          COMPONENTS, and CHECKED here): add it there and regenerate, see tests/schema/openapi/README.md";

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("2.16", SPEC_2_16).unwrap_or_else(|e| panic!("{e}")))
}

fn spec_2_14() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("2.14", SPEC_2_14).unwrap_or_else(|e| panic!("{e}")))
}

// ---------------------------------------------------------------------------------------
// Known errors of the description, each allowed only where it applies.
// ---------------------------------------------------------------------------------------

/// A place where the 2.16 description is wrong: it disagrees with real traffic, or with
/// itself. Each one replaces a single node of `components.schemas` for the calls that
/// name it; everything else in the body is still checked as written. If the description
/// changes at that node, the patch is refused and the test fails (see `Patch::expect`).
#[derive(Clone, Copy, Debug)]
enum Allowance {
    /// `GET /companies` and `POST /companies/list`: `pages` is documented as
    /// `cursor_pages`, whose `next` is a `{per_page, starting_after}` object; real
    /// responses carry a URL string such as
    /// `https://api.intercom.io/companies/list?per_page=60&page=2` (docs/intercom.md §6
    /// Pagination, §14). Only `company_list.pages.next` changes: a URI string or null;
    /// `type`, `page`, `per_page`, `total_pages` stay checked.
    CompanyListNextIsAUrl,
    /// `company.custom_attributes` is documented as string values only
    /// (`additionalProperties: {type: string}`), but the same property's own example is
    /// `{"paid_subscriber": true, "monthly_spend": 155.5, "team_mates": 9}`, and company
    /// data attributes are typed `integer|float|boolean|date` (docs/intercom.md §8.2, §14).
    /// Values may be strings, numbers or booleans; not null, arrays or objects.
    TypedCompanyCustomAttributes,
    /// `ticket.snoozed_until` is documented as a non-nullable integer whose own description
    /// says "If null, the ticket is not currently snoozed". It may be null
    /// (docs/intercom.md §14).
    SnoozedUntilMayBeNull,
}

impl Allowance {
    fn patches(self, spec: &Spec) -> Vec<Patch> {
        match self {
            Allowance::CompanyListNextIsAUrl => {
                let mut pages = spec.raw["components"]["schemas"]["cursor_pages"].clone();
                pages["properties"]["next"] = json!({"type": "string", "format": "uri", "nullable": true});
                vec![Patch {
                    pointer: "/company_list/properties/pages".into(),
                    expect: json!({"$ref": "#/components/schemas/cursor_pages"}),
                    replace: pages,
                }]
            }
            Allowance::TypedCompanyCustomAttributes => vec![Patch {
                pointer: "/company/properties/custom_attributes/additionalProperties".into(),
                expect: json!({"type": "string"}),
                replace: json!({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
            }],
            Allowance::SnoozedUntilMayBeNull => vec![Patch {
                pointer: "/ticket/properties/snoozed_until".into(),
                expect: json!({"type": "integer"}),
                replace: json!({"type": "integer", "nullable": true}),
            }],
        }
    }

    /// A body, of the component named, that the description as written rejects only
    /// because of this error; it shows that the allowance is still needed.
    fn evidence(self, spec: &Spec) -> (&'static str, Value) {
        match self {
            Allowance::CompanyListNextIsAUrl => (
                "company_list",
                json!({"type": "list", "data": [], "total_count": 0,
                       "pages": {"type": "pages", "page": 1, "per_page": 15, "total_pages": 2,
                                 "next": "https://api.intercom.io/companies/list?per_page=15&page=2"}}),
            ),
            Allowance::TypedCompanyCustomAttributes => {
                // The one schema `example` the extract keeps (KEPT_SCHEMA_EXAMPLES in the script).
                let example =
                    spec.raw["components"]["schemas"]["company"]["properties"]["custom_attributes"]["example"].clone();
                ("company", json!({"type": "company", "id": "1", "custom_attributes": example}))
            }
            Allowance::SnoozedUntilMayBeNull => ("ticket", json!({"type": "ticket", "id": "1", "snoozed_until": null})),
        }
    }

    /// A body that breaks the description next to the allowed node: the allowance must
    /// not let it through.
    fn still_checked(self) -> (&'static str, Value) {
        match self {
            Allowance::CompanyListNextIsAUrl => (
                "company_list",
                json!({"type": "list", "data": [], "pages": {"type": "pages", "page": "one", "next": {"starting_after": "x"}}}),
            ),
            Allowance::TypedCompanyCustomAttributes => {
                ("company", json!({"type": "company", "custom_attributes": {"a": null, "b": [1], "c": {"d": 1}}}))
            }
            Allowance::SnoozedUntilMayBeNull => ("ticket", json!({"type": "ticket", "snoozed_until": "tomorrow"})),
        }
    }
}

const ALLOWANCES: &[Allowance] =
    &[Allowance::CompanyListNextIsAUrl, Allowance::TypedCompanyCustomAttributes, Allowance::SnoozedUntilMayBeNull];

/// Every body that carries companies.
const COMPANIES: &[Allowance] = &[Allowance::TypedCompanyCustomAttributes];
/// Every body that carries tickets.
const TICKETS: &[Allowance] = &[Allowance::SnoozedUntilMayBeNull];

// ---------------------------------------------------------------------------------------
// Talking to the sandbox.
// ---------------------------------------------------------------------------------------

fn small() -> SandboxConfig {
    SandboxConfig { companies: 60, contacts: 120, tickets: 30, ..SandboxConfig::default() }
}

async fn sandbox() -> RunningSandbox {
    Sandbox::spawn(small()).await.unwrap_or_else(|e| panic!("the sandbox does not start: {e}"))
}

/// An answer of the sandbox, with what was asked, for messages.
struct Reply {
    request: String,
    status: u16,
    body: Value,
}

struct Api<'a> {
    sb: &'a RunningSandbox,
    client: Client,
    token: Option<&'a str>,
    version: &'a str,
}

fn api(sb: &RunningSandbox) -> Api<'_> {
    Api { sb, client: Client::new(), token: Some(SANDBOX_TOKEN), version: "2.16" }
}

impl<'a> Api<'a> {
    fn without_token(mut self) -> Self {
        self.token = None;
        self
    }

    fn version(mut self, version: &'a str) -> Self {
        self.version = version;
        self
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let request = format!("{method} {path}{}", body.as_ref().map(|b| format!(" {b}")).unwrap_or_default());
        let mut r = self
            .client
            .request(method, self.sb.url(path))
            .header("Intercom-Version", self.version)
            .header("Accept", "application/json");
        if let Some(token) = self.token {
            r = r.bearer_auth(token);
        }
        if let Some(body) = body {
            r = r.json(&body);
        }
        let response = r.send().await.unwrap_or_else(|e| panic!("{request} was not answered: {e}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_else(|e| panic!("{request}: the body could not be read: {e}"));
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{request} answered {status} with a body that is not JSON ({e}): {text}"));
        Reply { request, status, body }
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }
}

// ---------------------------------------------------------------------------------------
// Assertions.
// ---------------------------------------------------------------------------------------

/// The reply has `status` and its body matches the schema that the 2.16 description
/// documents for `method path` and that status.
fn assert_valid(method: &str, path: &str, status: u16, reply: &Reply) {
    assert_valid_in(spec(), method, path, status, reply, &[]);
}

fn assert_valid_allowing(method: &str, path: &str, status: u16, reply: &Reply, allowances: &[Allowance]) {
    assert_valid_in(spec(), method, path, status, reply, allowances);
}

fn assert_valid_in(spec: &Spec, method: &str, path: &str, status: u16, reply: &Reply, allowances: &[Allowance]) {
    assert_eq!(reply.status, status, "{} answered {} instead of {status}: {}", reply.request, reply.status, reply.body);
    let documented = spec.documented(method, path, status).unwrap_or_else(|e| panic!("{e}; {REGENERATE}"));
    let patches: Vec<Patch> = allowances.iter().flat_map(|a| a.patches(spec)).collect();
    let validator = spec.validator_with(&documented.schema, &patches).unwrap_or_else(|e| panic!("{e}"));
    let errors = spec.errors(&validator, &reply.body);
    assert!(
        errors.is_empty(),
        "{} answered {status} with a body that the {} description of {method} {} rejects:\n  {}\nbody: {}",
        reply.request,
        spec.label,
        documented.template,
        errors.join("\n  "),
        reply.body
    );
}

/// For responses that no operation documents (a 429 anywhere, say): the body matches the
/// named component schema of the 2.16 description.
fn assert_component(name: &str, status: u16, reply: &Reply) {
    assert_eq!(reply.status, status, "{} answered {} instead of {status}: {}", reply.request, reply.status, reply.body);
    let validator = spec().component(name).unwrap_or_else(|e| panic!("{e}; {REGENERATE}"));
    let errors = spec().errors(&validator, &reply.body);
    assert!(
        errors.is_empty(),
        "{} answered {status} with a body that the 2.16 schema {name} rejects:\n  {}\nbody: {}",
        reply.request,
        errors.join("\n  "),
        reply.body
    );
}

/// The list at `pointer` has items, so that the item schema was really exercised.
fn assert_has_items(reply: &Reply, pointer: &str) {
    let n = reply.body.pointer(pointer).and_then(Value::as_array).map(Vec::len);
    assert!(
        matches!(n, Some(n) if n > 0),
        "{}: {pointer} should be a non-empty list, so that its items are checked: {}",
        reply.request,
        reply.body
    );
}

fn string_at<'v>(reply: &'v Reply, pointer: &str) -> &'v str {
    reply
        .body
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{}: {pointer} should be a string: {}", reply.request, reply.body))
}

/// A live contact with at least one tag and one company, so that the lists under it
/// have items to check.
fn well_connected_contact(sb: &RunningSandbox) -> String {
    sb.sandbox
        .contact_ids()
        .into_iter()
        .find(|id| {
            sb.sandbox.contact_json(id).is_some_and(|c| {
                c["tags"]["total_count"].as_u64().unwrap_or(0) > 0
                    && c["companies"]["total_count"].as_u64().unwrap_or(0) > 0
            })
        })
        .unwrap_or_else(|| panic!("the small sandbox should hold a contact with both tags and companies"))
}

// ---------------------------------------------------------------------------------------
// The machinery, on the description's own examples.
// ---------------------------------------------------------------------------------------

/// Operations checked below, with their documented statuses.
const CHECKED: &[(&str, &str)] = &[
    ("GET", "/me"),
    ("GET", "/admins"),
    ("GET", "/data_attributes"),
    ("GET", "/companies/scroll"),
    ("GET", "/companies"),
    ("POST", "/companies/list"),
    ("GET", "/companies/{company_id}"),
    ("POST", "/companies"),
    ("GET", "/contacts"),
    ("GET", "/contacts/{contact_id}"),
    ("POST", "/contacts/search"),
    ("GET", "/contacts/{contact_id}/companies"),
    ("GET", "/contacts/{contact_id}/tags"),
    ("GET", "/tags"),
    ("POST", "/tickets/search"),
    ("GET", "/tickets/{ticket_id}"),
    ("GET", "/ticket_types"),
    ("POST", "/conversations/search"),
];

/// Official examples that their own schema rejects: (method, template, status, example
/// name, the first error). Listed, not hidden; the test fails if this list goes stale.
const EXAMPLES_THAT_BREAK_THEIR_OWN_SCHEMA: &[(&str, &str, u16, &str)] = &[];

/// An official example its schema rejects: method, template, status, example name, first error.
type ExampleFailure = (String, String, u16, String, String);

fn example_failures(spec: &Spec, operations: &[(&str, &str)]) -> (usize, Vec<ExampleFailure>) {
    let mut checked = 0;
    let mut failures = vec![];
    for (method, template) in operations {
        let responses = spec.raw["paths"][*template][method.to_ascii_lowercase()]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("the {} description has no {method} {template}; {REGENERATE}", spec.label));
        for status in responses.keys() {
            let Ok(code) = status.parse::<u16>() else { continue };
            let Ok(documented) = spec.documented(method, template, code) else { continue };
            let validator = spec.validator(&documented.schema).unwrap_or_else(|e| panic!("{e}"));
            for (name, example) in &documented.examples {
                checked += 1;
                let errors = spec.errors(&validator, example);
                if let Some(first) = errors.first() {
                    failures.push((method.to_string(), template.to_string(), code, name.clone(), first.clone()));
                }
            }
        }
    }
    (checked, failures)
}

#[test]
fn the_official_examples_of_the_checked_operations_match_their_own_schemas() {
    let (checked, failures) = example_failures(spec(), CHECKED);
    assert!(checked >= CHECKED.len(), "only {checked} examples were found for {} operations", CHECKED.len());
    let found: Vec<(String, String, u16, String)> =
        failures.iter().map(|(m, t, s, n, _)| (m.clone(), t.clone(), *s, n.clone())).collect();
    let known: Vec<(String, String, u16, String)> = EXAMPLES_THAT_BREAK_THEIR_OWN_SCHEMA
        .iter()
        .map(|(m, t, s, n)| (m.to_string(), t.to_string(), *s, n.to_string()))
        .collect();
    assert_eq!(
        found,
        known,
        "the official examples that break their own schema are not the known ones; all failures:\n{}",
        failures.iter().map(|(m, t, s, n, e)| format!("  {m} {t} {s} {n:?}: {e}")).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn every_response_schema_of_the_checked_operations_compiles_in_2_14_too() {
    for (method, template) in CHECKED {
        let Some(responses) = spec_2_14().raw["paths"][*template][method.to_ascii_lowercase()]["responses"].as_object()
        else {
            panic!("the 2.14 description has no {method} {template}; {REGENERATE}");
        };
        for status in responses.keys().filter_map(|s| s.parse::<u16>().ok()) {
            if let Ok(documented) = spec_2_14().documented(method, template, status) {
                spec_2_14().validator(&documented.schema).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
}

/// The extracts hold the operations of [`CHECKED`], each with documented responses, and
/// no other: the script's list and this one move together.
#[test]
fn the_extracts_hold_exactly_the_checked_operations() {
    for spec in [spec(), spec_2_14()] {
        let mut held: Vec<(String, String)> = vec![];
        for (template, methods) in spec.raw["paths"].as_object().into_iter().flatten() {
            for method in methods.as_object().into_iter().flatten().map(|(m, _)| m.to_ascii_uppercase()) {
                held.push((method, template.clone()));
            }
        }
        held.sort();
        let mut wanted: Vec<(String, String)> = CHECKED.iter().map(|(m, t)| (m.to_string(), t.to_string())).collect();
        wanted.sort();
        assert_eq!(held, wanted, "the {} extract and CHECKED list different operations; {REGENERATE}", spec.label);
        for (method, template) in CHECKED {
            let responses = &spec.raw["paths"][*template][method.to_ascii_lowercase()]["responses"];
            assert!(
                responses.as_object().is_some_and(|r| !r.is_empty()),
                "the {} extract has no responses for {method} {template}; {REGENERATE}",
                spec.label
            );
        }
        for name in ["error", "company", "company_list", "cursor_pages", "ticket"] {
            assert!(
                spec.raw.pointer(&format!("/components/schemas/{name}")).is_some(),
                "the {} extract has no schema {name}, which the tests name; {REGENERATE}",
                spec.label
            );
        }
    }
}

#[test]
fn every_allowance_is_still_needed_and_still_narrow() {
    for spec in [spec(), spec_2_14()] {
        for allowance in ALLOWANCES {
            let (name, evidence) = allowance.evidence(spec);
            let as_written = spec.component(name).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                !spec.errors(&as_written, &evidence).is_empty(),
                "the {} description now accepts {evidence} as a {name}: drop {allowance:?}",
                spec.label
            );
            let reference = json!({"$ref": format!("#/components/schemas/{name}")});
            let allowed = spec.validator_with(&reference, &allowance.patches(spec)).unwrap_or_else(|e| panic!("{e}"));
            let errors = spec.errors(&allowed, &evidence);
            assert!(
                errors.is_empty(),
                "{allowance:?} does not let its own evidence through in {}: {errors:#?}",
                spec.label
            );
            let (name, wrong) = allowance.still_checked();
            assert_eq!(
                name,
                allowance.evidence(spec).0,
                "{allowance:?}: evidence and counter-example are of one schema"
            );
            assert!(
                !spec.errors(&allowed, &wrong).is_empty(),
                "{allowance:?} lets {wrong} through as a {name} in {}",
                spec.label
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The sandbox, endpoint by endpoint (2.16).
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_current_admin_matches_the_official_schema() {
    let sb = sandbox().await;
    assert_valid("GET", "/me", 200, &api(&sb).get("/me").await);
}

#[tokio::test]
async fn the_admin_list_matches_the_official_schema() {
    let sb = sandbox().await;
    let reply = api(&sb).get("/admins").await;
    assert_has_items(&reply, "/admins");
    assert_valid("GET", "/admins", 200, &reply);
}

#[tokio::test]
async fn the_company_data_attributes_match_the_official_schema() {
    let sb = sandbox().await;
    let reply = api(&sb).get("/data_attributes?model=company").await;
    assert_has_items(&reply, "/data");
    assert_valid("GET", "/data_attributes", 200, &reply);
}

#[tokio::test]
async fn the_contact_data_attributes_match_the_official_schema() {
    let sb = sandbox().await;
    let reply = api(&sb).get("/data_attributes?model=contact").await;
    assert_has_items(&reply, "/data");
    assert_valid("GET", "/data_attributes", 200, &reply);
}

#[tokio::test]
async fn the_company_scroll_page_matches_the_official_schema() {
    let sb = sandbox().await;
    let reply = api(&sb).get("/companies/scroll").await;
    assert_has_items(&reply, "/data");
    assert_valid_allowing("GET", "/companies/scroll", 200, &reply, COMPANIES);
}

#[tokio::test]
async fn the_company_page_matches_the_official_schema_except_for_its_url_next() {
    let sb = sandbox().await;
    let reply = api(&sb).get("/companies?page=1").await;
    assert_has_items(&reply, "/data");
    assert!(reply.body["pages"]["next"].is_string(), "a URL, as real traffic has: {}", reply.body["pages"]);
    assert_valid_allowing(
        "GET",
        "/companies",
        200,
        &reply,
        &[Allowance::CompanyListNextIsAUrl, Allowance::TypedCompanyCustomAttributes],
    );
}

#[tokio::test]
async fn the_company_list_page_matches_the_official_schema_except_for_its_url_next() {
    let sb = sandbox().await;
    let reply = api(&sb).post("/companies/list?page=1&per_page=15", json!({})).await;
    assert_has_items(&reply, "/data");
    assert!(
        reply.body["pages"]["next"].is_string(),
        "the sandbox gives pages.next as a URL, as real traffic does: {}",
        reply.body["pages"]
    );
    assert_valid_allowing(
        "POST",
        "/companies/list",
        200,
        &reply,
        &[Allowance::CompanyListNextIsAUrl, Allowance::TypedCompanyCustomAttributes],
    );
}

#[tokio::test]
async fn a_company_matches_the_official_schema() {
    let sb = sandbox().await;
    let id = sb.sandbox.company_ids().into_iter().next().expect("the sandbox holds companies");
    let path = format!("/companies/{id}");
    assert_valid_allowing("GET", &path, 200, &api(&sb).get(&path).await, COMPANIES);
}

#[tokio::test]
async fn a_created_company_matches_the_official_schema() {
    let sb = sandbox().await;
    let reply = api(&sb)
        .post(
            "/companies",
            json!({"company_id": "schema-check-1", "name": "Schema Check", "plan": "gold", "size": 12,
                                   "website": "https://schema.example", "industry": "Testing", "monthly_spend": 100}),
        )
        .await;
    assert_valid_allowing("POST", "/companies", 200, &reply, COMPANIES);
    let again = api(&sb).post("/companies", json!({"company_id": "schema-check-1", "name": "Schema Check 2"})).await;
    assert_valid_allowing("POST", "/companies", 200, &again, COMPANIES);
}

#[tokio::test]
async fn the_contact_page_matches_the_official_schema() {
    let sb = sandbox().await;
    let reply = api(&sb).get("/contacts").await;
    assert_has_items(&reply, "/data");
    assert_valid("GET", "/contacts", 200, &reply);
}

#[tokio::test]
async fn a_contact_matches_the_official_schema() {
    let sb = sandbox().await;
    let path = format!("/contacts/{}", well_connected_contact(&sb));
    assert_valid("GET", &path, 200, &api(&sb).get(&path).await);
}

#[tokio::test]
async fn a_contact_search_page_matches_the_official_schema() {
    let sb = sandbox().await;
    let reply = api(&sb)
        .post(
            "/contacts/search",
            json!({"query": {"field": "role", "operator": "=", "value": "user"}, "pagination": {"per_page": 20}}),
        )
        .await;
    assert_has_items(&reply, "/data");
    assert_valid("POST", "/contacts/search", 200, &reply);
}

#[tokio::test]
async fn the_companies_of_a_contact_match_the_official_schema() {
    let sb = sandbox().await;
    let path = format!("/contacts/{}/companies", well_connected_contact(&sb));
    let reply = api(&sb).get(&path).await;
    assert_valid("GET", &path, 200, &reply);
}

#[tokio::test]
async fn the_companies_of_a_contact_under_the_schemas_key_match_the_official_schema() {
    // The description's example says `data`, its schema says `companies`; the sandbox
    // can answer either (docs/intercom.md §13). Under `companies` the item schema is
    // exercised.
    let sb = sandbox().await;
    sb.sandbox.set_contact_companies_key_to_companies(true);
    let path = format!("/contacts/{}/companies", well_connected_contact(&sb));
    let reply = api(&sb).get(&path).await;
    assert_has_items(&reply, "/companies");
    assert_valid_allowing("GET", &path, 200, &reply, COMPANIES);
}

#[tokio::test]
async fn the_tags_of_a_contact_match_the_official_schema() {
    let sb = sandbox().await;
    let path = format!("/contacts/{}/tags", well_connected_contact(&sb));
    let reply = api(&sb).get(&path).await;
    assert_has_items(&reply, "/data");
    assert_valid("GET", &path, 200, &reply);
}

#[tokio::test]
async fn the_workspace_tags_match_the_official_schema() {
    let sb = sandbox().await;
    let reply = api(&sb).get("/tags").await;
    assert_has_items(&reply, "/data");
    assert_valid("GET", "/tags", 200, &reply);
}

async fn ticket_search(sb: &RunningSandbox, version: &str) -> Reply {
    api(sb)
        .version(version)
        .post(
            "/tickets/search",
            json!({"query": {"field": "created_at", "operator": ">", "value": 0}, "pagination": {"per_page": 10}}),
        )
        .await
}

#[tokio::test]
async fn a_ticket_search_page_matches_the_official_schema() {
    let sb = sandbox().await;
    let reply = ticket_search(&sb, "2.16").await;
    assert_has_items(&reply, "/tickets");
    assert_valid_allowing("POST", "/tickets/search", 200, &reply, TICKETS);
}

#[tokio::test]
async fn a_ticket_matches_the_official_schema() {
    let sb = sandbox().await;
    let found = ticket_search(&sb, "2.16").await;
    let path = format!("/tickets/{}", string_at(&found, "/tickets/0/id"));
    assert_valid_allowing("GET", &path, 200, &api(&sb).get(&path).await, TICKETS);
}

#[tokio::test]
async fn the_ticket_types_match_the_official_schema() {
    let sb = sandbox().await;
    let reply = api(&sb).get("/ticket_types").await;
    assert_has_items(&reply, "/data");
    assert_valid("GET", "/ticket_types", 200, &reply);
}

async fn conversation_search(sb: &RunningSandbox, version: &str, per_page: u32) -> Reply {
    api(sb)
        .version(version)
        .post(
            "/conversations/search",
            json!({"query": {"field": "created_at", "operator": ">", "value": 0}, "pagination": {"per_page": per_page}}),
        )
        .await
}

#[tokio::test]
async fn a_conversation_search_page_matches_the_official_schema() {
    let sb = sandbox().await;
    let reply = conversation_search(&sb, "2.16", 150).await;
    assert_has_items(&reply, "/conversations");
    assert_valid("POST", "/conversations/search", 200, &reply);
    let first = conversation_search(&sb, "2.16", 5).await;
    assert!(first.body["pages"]["next"].is_object(), "a page with a next cursor: {}", first.body["pages"]);
    assert_valid("POST", "/conversations/search", 200, &first);
}

// ---------------------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_without_a_token_gets_the_official_401_error() {
    let sb = sandbox().await;
    assert_valid("GET", "/admins", 401, &api(&sb).without_token().get("/admins").await);
}

#[tokio::test]
async fn an_unknown_company_gets_the_official_404_error() {
    let sb = sandbox().await;
    assert_valid(
        "GET",
        "/companies/000000000000000000000000",
        404,
        &api(&sb).get("/companies/000000000000000000000000").await,
    );
}

#[tokio::test]
async fn an_unknown_contact_gets_the_official_404_error() {
    let sb = sandbox().await;
    let path = "/contacts/000000000000000000000000/tags";
    assert_valid("GET", path, 404, &api(&sb).get(path).await);
    let path = "/contacts/000000000000000000000000/companies";
    assert_valid("GET", path, 404, &api(&sb).get(path).await);
}

#[tokio::test]
async fn a_merged_contact_gets_the_official_410_error() {
    let sb = sandbox().await;
    let merged = sb.sandbox.merged_contact_ids().into_iter().next().expect("the small sandbox holds a merged contact");
    let path = format!("/contacts/{merged}");
    assert_valid("GET", &path, 410, &api(&sb).get(&path).await);
}

#[tokio::test]
async fn a_company_with_an_unknown_field_gets_the_official_400_error() {
    let sb = sandbox().await;
    let reply = api(&sb).post("/companies", json!({"company_id": "schema-check-2", "test": 1})).await;
    assert_valid("POST", "/companies", 400, &reply);
}

#[tokio::test]
async fn a_contact_search_with_a_bad_sort_order_gets_the_official_400_error() {
    let sb = sandbox().await;
    let reply = api(&sb)
        .post("/contacts/search", json!({"query": {"field": "role", "operator": "=", "value": "user"}, "sort": {"field": "updated_at", "order": "sideways"}}))
        .await;
    assert_valid("POST", "/contacts/search", 400, &reply);
}

#[tokio::test]
async fn the_conversation_data_attributes_get_the_official_422_error() {
    let sb = sandbox().await;
    assert_valid("GET", "/data_attributes", 422, &api(&sb).get("/data_attributes?model=conversation").await);
}

#[tokio::test]
async fn a_request_over_the_rate_limit_gets_an_error_of_the_official_shape() {
    // No operation documents its 429; the body must still be the `error` envelope.
    let sb = sandbox().await;
    sb.sandbox.set_rate_limit(1);
    let first = api(&sb).get("/tags").await;
    assert_eq!(first.status, 200, "the first call of the window passes: {}", first.body);
    let second = api(&sb).get("/tags").await;
    assert_component("error", 429, &second);
}

// ---------------------------------------------------------------------------------------
// 2.14, for clients that ask for it (the official SDKs are generated from 2.14).
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_2_14_contact_matches_the_2_14_schema() {
    let sb = sandbox().await;
    let path = format!("/contacts/{}", well_connected_contact(&sb));
    let reply = api(&sb).version("2.14").get(&path).await;
    assert_valid_in(spec_2_14(), "GET", &path, 200, &reply, &[]);
}

#[tokio::test]
async fn a_2_14_ticket_matches_the_2_14_schema_and_not_the_2_16_one() {
    // admin_assignee_id is a string in 2.14 and an integer in 2.16 (docs/intercom.md
    // §10), so this also shows that the check can tell the two versions apart.
    let sb = sandbox().await;
    let found = ticket_search(&sb, "2.14").await;
    assert_valid_in(spec_2_14(), "POST", "/tickets/search", 200, &found, TICKETS);
    let path = format!("/tickets/{}", string_at(&found, "/tickets/0/id"));
    let reply = api(&sb).version("2.14").get(&path).await;
    assert_valid_in(spec_2_14(), "GET", &path, 200, &reply, TICKETS);
    let documented = spec().documented("GET", &path, 200).unwrap_or_else(|e| panic!("{e}; {REGENERATE}"));
    let patches = Allowance::SnoozedUntilMayBeNull.patches(spec());
    let v2_16 = spec().validator_with(&documented.schema, &patches).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !spec().errors(&v2_16, &reply.body).is_empty(),
        "a 2.14 ticket (string assignee ids) should not pass as 2.16: {}",
        reply.body
    );
}

#[tokio::test]
async fn a_2_14_conversation_search_page_matches_the_2_14_schema() {
    // Unassigned ids are null and priority is priority/not_priority there (docs/intercom.md §10).
    let sb = sandbox().await;
    let reply = conversation_search(&sb, "2.14", 150).await;
    assert_has_items(&reply, "/conversations");
    assert_valid_in(spec_2_14(), "POST", "/conversations/search", 200, &reply, &[]);
}

#[tokio::test]
async fn a_2_14_contact_page_and_company_scroll_match_the_2_14_schema() {
    let sb = sandbox().await;
    let contacts = api(&sb).version("2.14").get("/contacts").await;
    assert_has_items(&contacts, "/data");
    assert_valid_in(spec_2_14(), "GET", "/contacts", 200, &contacts, &[]);
    let scroll = api(&sb).version("2.14").get("/companies/scroll").await;
    assert_has_items(&scroll, "/data");
    assert_valid_in(spec_2_14(), "GET", "/companies/scroll", 200, &scroll, COMPANIES);
}
