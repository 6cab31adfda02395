//! The seeded workspace. Everything is derived from the seed and from the UTC day the
//! sandbox starts on, so the same seed gives the same workspace byte for byte that day.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::model::*;
use super::rng::SplitMix64;
use super::state::{real_now, SandboxStats, State};
use super::{conversations, SandboxConfig, SANDBOX_TOKEN};

const DAY: i64 = 86_400;

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Katherine",
    "Donald",
    "Sophie",
    "Jean",
    "Lucie",
    "Hugo",
    "Camille",
    "Louis",
    "Chloé",
    "Jules",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "McCarthy",
    "Johnson",
    "Knuth",
    "Martin",
    "Bernard",
    "Dubois",
    "Moreau",
];
const WORDS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Wonka",
    "Aperture",
    "Massive",
    "Pied",
    "Piper",
    "Blue",
    "Sun",
    "Nimbus",
    "Orbit",
    "Quantum",
    "Delta",
    "Nova",
];
const SUFFIXES: &[&str] = &["Inc", "SAS", "GmbH", "Ltd", "Labs", "Group", "Systems", "Corp"];
const INDUSTRIES: &[&str] = &["SaaS", "Ecommerce", "Manufacturing", "Healthcare", "Finance", "Education", "Retail"];
const PLANS: &[&str] = &["Starter", "Growth", "Pro", "Enterprise"];
const TIERS: &[&str] = &["Gold", "Silver", "Bronze"];
const REGIONS: &[&str] = &["EMEA", "NA", "APAC", "LATAM"];
const DEPARTMENTS: &[&str] = &["Sales", "Support", "Engineering", "Marketing", "Finance", "Operations"];
const JOB_TITLES: &[&str] = &["CEO", "CTO", "Head of Support", "Customer Success Manager", "Developer", "Analyst"];
const PLACES: &[(&str, &str)] = &[
    ("France", "Paris"),
    ("France", "Lyon"),
    ("United States", "New York"),
    ("United Kingdom", "London"),
    ("Germany", "Berlin"),
    ("Australia", "Sydney"),
    ("Ireland", "Dublin"),
];
const TAG_NAMES: &[&str] = &[
    "Champion",
    "Sponsor",
    "Key user",
    "End user",
    "VIP",
    "Churn risk",
    "Beta tester",
    "Decision maker",
    "Billing contact",
    "Onboarding",
    "Trial",
    "Newsletter",
    "Partner",
    "Detractor",
];

pub fn seed(config: SandboxConfig) -> State {
    let mut rng = SplitMix64::new(config.seed);
    let anchor = real_now() / DAY * DAY;
    let salt = rng.next_u64() & 0xFF_FFFF;

    let admins = seed_admins();
    let tags: Vec<Tag> = TAG_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| Tag { id: (7_001 + i as i64 * 17).to_string(), name: (*name).to_string() })
        .collect();
    let segments = vec![
        Segment { id: format!("5f0c{:020x}", salt + 1), name: "Active".into() },
        Segment { id: format!("5f0c{:020x}", salt + 2), name: "Slipping away".into() },
    ];
    let attributes = seed_attributes(anchor, &admins);
    let next_attribute_id = attributes.iter().filter_map(|a| a.id).max().unwrap_or(0) + 1;

    let mut companies = Vec::with_capacity(config.companies);
    for i in 0..config.companies {
        companies.push(seed_company(&mut rng, anchor, salt, i, tags.len(), segments.len()));
    }

    let mut created: Vec<i64> = (0..config.contacts).map(|_| rng.range(anchor - 730 * DAY, anchor - DAY)).collect();
    created.sort_unstable();
    let mut contacts = Vec::with_capacity(config.contacts);
    for (i, created_at) in created.into_iter().enumerate() {
        contacts.push(seed_contact(&mut rng, anchor, salt, i, created_at, &admins, tags.len(), companies.len()));
    }
    // A few contacts were merged away (one of them twice), as in a lived-in workspace.
    if contacts.len() >= 20 {
        let n = contacts.len() as u64;
        let survivor = rng.below(n) as usize;
        let mut merged = HashSet::new();
        let mut chain_target = survivor;
        while merged.len() < 3 {
            let i = rng.below(n) as usize;
            if i != survivor && merged.insert(i) {
                contacts[i].merged_into = Some(chain_target);
                contacts[i].companies.clear();
                chain_target = i; // the next one merges into this one: a chain of merges
            }
        }
    }
    for contact in contacts.iter().filter(|c| c.merged_into.is_none()) {
        for &company in &contact.companies {
            companies[company].user_count += 1;
        }
    }

    let (ticket_types, ticket_states) = seed_ticket_types(anchor);
    let mut tickets = Vec::with_capacity(config.tickets);
    let live: Vec<usize> = (0..contacts.len()).filter(|&i| contacts[i].merged_into.is_none()).collect();
    for i in 0..config.tickets {
        tickets.push(seed_ticket(&mut rng, anchor, i, &live, &admins, ticket_types.len(), &ticket_states));
    }
    let conversations = conversations::seed(&config, anchor, &contacts, &admins);

    let company_by_id = companies.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
    let company_by_company_id = companies.iter().enumerate().map(|(i, c)| (c.company_id.clone(), i)).collect();
    let contact_by_id: HashMap<String, usize> = contacts.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
    let fault_rng = SplitMix64::new(config.seed ^ 0xFA01_7FA0_17FA_017F);
    let misc_rng = SplitMix64::new(config.seed ^ 0x5C_0011);
    let fault_status_rng = SplitMix64::new(config.seed ^ 0x57A7_0500);
    let company_counter = companies.len() as u64;
    let live_contacts = contacts.iter().filter(|c| c.merged_into.is_none()).count();

    State {
        app_id: format!("sbx{:06x}", salt),
        app_created_at: anchor - 900 * DAY,
        admins,
        tags,
        segments,
        attributes,
        next_attribute_id,
        companies,
        company_by_id,
        company_by_company_id,
        contacts,
        contact_id_salt: salt,
        live_contacts,
        contact_by_id,
        ticket_types,
        ticket_states,
        tickets,
        conversations,
        company_counter,
        generation: 0,
        search_cache: HashMap::new(),
        scroll: None,
        scroll_fail_after: None,
        scroll_fail_repeat: 0,
        scroll_page_fault: None,
        storm_429: 0,
        scroll_includes_companies_without_users: true,
        contact_companies_key: "data",
        ticket_search_gt_inclusive: true,
        contact_dates_by_second: false,
        tokens: [SANDBOX_TOKEN.to_string()].into_iter().collect(),
        oauth_codes: HashMap::new(),
        windows: HashMap::new(),
        fault_rng,
        fault_status_rng,
        misc_rng,
        stats: SandboxStats::default(),
        webhooks: None,
        clock_offset: 0,
        config,
    }
}

fn seed_admins() -> Vec<Admin> {
    let people = [
        ("Ada Admin", "ada@sandbox.example", "Head of Customer Success"),
        ("Brice Owner", "brice@sandbox.example", "Account Manager"),
        ("Chloé Support", "chloe@sandbox.example", "Support Engineer"),
        ("Dan Sales", "dan@sandbox.example", "Account Executive"),
        ("Eve Ops", "eve@sandbox.example", "Operations"),
    ];
    people
        .iter()
        .enumerate()
        .map(|(i, (name, email, job))| Admin {
            id: 991_267_700 + i as i64,
            name: (*name).into(),
            email: (*email).into(),
            job_title: (*job).into(),
            team_ids: if i % 2 == 0 { vec![814_865] } else { vec![] },
        })
        .collect()
}

fn standard(
    model: Model,
    name: &str,
    full_name: &str,
    label: &str,
    description: &str,
    data_type: &str,
    api_writable: bool,
) -> DataAttribute {
    DataAttribute {
        id: None,
        model,
        name: name.into(),
        full_name: full_name.into(),
        label: label.into(),
        description: description.into(),
        data_type: data_type.into(),
        options: vec![],
        api_writable,
        messenger_writable: true,
        custom: false,
        archived: false,
        admin_id: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn seed_attributes(anchor: i64, admins: &[Admin]) -> Vec<DataAttribute> {
    use Model::*;
    let mut out = vec![
        standard(Company, "name", "name", "Company name", "The name of a company", "string", true),
        standard(Company, "company_id", "company_id", "Company ID", "A number identifying a company", "string", false),
        standard(
            Company,
            "last_request_at",
            "last_request_at",
            "Company last seen",
            "The last day anyone from a company visited your site or app",
            "date",
            false,
        ),
        standard(
            Company,
            "remote_created_at",
            "remote_created_at",
            "Company created at",
            "The day a company was added to Intercom",
            "date",
            true,
        ),
        standard(Company, "user_count", "user_count", "People", "The number of people in a company", "integer", false),
        standard(
            Company,
            "session_count",
            "session_count",
            "Company web sessions",
            "All visits from anyone in a company to your product's site or app",
            "integer",
            false,
        ),
        standard(
            Company,
            "name",
            "plan.name",
            "Plan",
            "A specific plan or level within your product that companies have signed up to",
            "string",
            false,
        ),
        standard(
            Company,
            "monthly_spend",
            "monthly_spend",
            "Monthly Spend",
            "The monthly revenue you receive from a company",
            "float",
            true,
        ),
        standard(
            Company,
            "size",
            "size",
            "Company size",
            "The number of people employed in this company, expressed as a single number",
            "integer",
            true,
        ),
        standard(
            Company,
            "industry",
            "industry",
            "Company industry",
            "The category or domain this company belongs to e.g. 'ecommerce' or 'SaaS'",
            "string",
            true,
        ),
        standard(
            Company,
            "website",
            "website",
            "Company website",
            "The web address for the company's primary marketing site",
            "string",
            true,
        ),
        standard(Company, "id", "id", "ID", "The Intercom defined id representing the company", "string", false),
        standard(
            Company,
            "created_at",
            "created_at",
            "Created at",
            "The time the company was added to Intercom",
            "date",
            false,
        ),
        standard(
            Company,
            "updated_at",
            "updated_at",
            "Updated at",
            "The last time the company was updated",
            "date",
            false,
        ),
        standard(Company, "id", "plan.id", "Plan ID", "The Intercom defined id representing the plan", "string", false),
        standard(
            Company,
            "app_id",
            "app_id",
            "App ID",
            "The Intercom defined id representing the app",
            "string",
            false,
        ),
        standard(Contact, "name", "name", "Name", "A person's full name", "string", true),
        standard(Contact, "email", "email", "Email", "A person's email address", "string", true),
        standard(Contact, "phone", "phone", "Phone", "A person's phone number", "string", true),
        standard(Contact, "external_id", "external_id", "User ID", "A number identifying a user", "string", true),
        standard(Contact, "role", "role", "Role", "The role of a contact: user or lead", "string", false),
        standard(Contact, "owner_id", "owner_id", "Owner", "The teammate that owns this contact", "integer", true),
        standard(
            Contact,
            "created_at",
            "created_at",
            "Created at",
            "The time the contact was added to Intercom",
            "date",
            false,
        ),
        standard(Contact, "signed_up_at", "signed_up_at", "Signed up", "The time the user signed up", "date", true),
        standard(
            Contact,
            "updated_at",
            "updated_at",
            "Updated at",
            "The last time the contact was updated",
            "date",
            false,
        ),
        standard(
            Contact,
            "last_seen_at",
            "last_seen_at",
            "Last seen",
            "The last time the contact used your product",
            "date",
            true,
        ),
        standard(
            Contact,
            "last_contacted_at",
            "last_contacted_at",
            "Last contacted",
            "The last time the contact was contacted",
            "date",
            false,
        ),
        standard(
            Contact,
            "last_replied_at",
            "last_replied_at",
            "Last heard from",
            "The last time the contact replied",
            "date",
            false,
        ),
        standard(
            Contact,
            "unsubscribed_from_emails",
            "unsubscribed_from_emails",
            "Unsubscribed from emails",
            "Whether the contact unsubscribed from emails",
            "boolean",
            true,
        ),
        standard(Contact, "country", "location.country", "Country", "The country of the contact", "string", false),
        standard(Contact, "city", "location.city", "City", "The city of the contact", "string", false),
    ];
    let custom = [
        (Company, "Health Score", "integer", false),
        (Company, "ARR", "float", false),
        (Company, "Renewal Date", "date", false),
        (Company, "Strategic", "boolean", false),
        (Company, "Tier", "string", false),
        (Company, "Sales Region", "string", false),
        (Company, "Legacy Plan", "string", true),
        (Contact, "Job Title", "string", false),
        (Contact, "Seats", "integer", false),
        (Contact, "NPS", "float", false),
        (Contact, "Last Login Date", "date", false),
        (Contact, "Is Admin", "boolean", false),
        (Contact, "Department", "string", false),
        (Contact, "Old Score", "integer", true),
    ];
    for (i, (model, name, data_type, archived)) in custom.iter().enumerate() {
        let created = anchor - (400 - i as i64 * 7) * DAY;
        out.push(DataAttribute {
            id: Some(30 + i as i64),
            model: *model,
            name: (*name).into(),
            full_name: format!("custom_attributes.{name}"),
            label: (*name).into(),
            description: String::new(),
            data_type: (*data_type).into(),
            options: vec![],
            api_writable: true,
            messenger_writable: false,
            custom: true,
            archived: *archived,
            admin_id: Some(admins[0].id.to_string()),
            created_at: created,
            updated_at: if *archived { created + 30 * DAY } else { created },
        });
    }
    out
}

fn company_custom(rng: &mut SplitMix64, anchor: i64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Health Score".into(), Value::from(rng.range(0, 101)));
    m.insert("ARR".into(), Value::from(rng.range(1_000, 500_000) as f64 + 0.5));
    if rng.chance(0.7) {
        m.insert("Renewal Date".into(), Value::from(anchor + rng.range(-30, 365) * DAY));
    }
    m.insert("Strategic".into(), Value::from(rng.chance(0.2)));
    m.insert("Tier".into(), Value::from(*rng.pick(TIERS)));
    if rng.chance(0.5) {
        m.insert("Sales Region".into(), Value::from(*rng.pick(REGIONS)));
    }
    m
}

fn seed_company(rng: &mut SplitMix64, anchor: i64, salt: u64, i: usize, n_tags: usize, n_segments: usize) -> Company {
    let created_at = rng.range(anchor - 1_000 * DAY, anchor - 100 * DAY);
    let name = format!("{} {} {}", rng.pick(WORDS), rng.pick(WORDS), rng.pick(SUFFIXES));
    let slug: String = name.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let plan_index = rng.below(PLANS.len() as u64 + 1) as usize;
    let tag_count = rng.below(3) as usize;
    let tag_ids =
        (0..tag_count).map(|k| (i * 7 + k * 3) % n_tags.max(1)).collect::<HashSet<_>>().into_iter().collect::<Vec<_>>();
    let mut tag_ids: Vec<usize> = if n_tags == 0 { vec![] } else { tag_ids };
    tag_ids.sort_unstable();
    Company {
        id: format!("{:08x}{:06x}{:010x}", created_at, salt, i),
        company_id: format!("cmp-{:05}", i + 1),
        website: Some(format!("https://{slug}{i}.example.com")),
        name,
        industry: Some((*rng.pick(INDUSTRIES)).into()),
        size: Some(rng.range(1, 5_000)),
        plan: (plan_index < PLANS.len())
            .then(|| Plan { id: (269_000 + plan_index).to_string(), name: PLANS[plan_index].into() }),
        monthly_spend: rng.range(0, 20_000),
        session_count: rng.range(0, 5_000),
        user_count: 0,
        remote_created_at: Some(created_at - rng.range(0, 300) * DAY),
        updated_at: rng.range(anchor - 90 * DAY, anchor),
        last_request_at: rng.chance(0.9).then(|| rng.range(anchor - 60 * DAY, anchor)),
        created_at,
        custom_attributes: company_custom(rng, anchor),
        tag_ids,
        segment_ids: if n_segments > 0 && rng.chance(0.3) {
            vec![rng.below(n_segments as u64) as usize]
        } else {
            vec![]
        },
        deleted: false,
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the seed's shared inputs, each drawn once per workspace and passed down"
)]
fn seed_contact(
    rng: &mut SplitMix64,
    anchor: i64,
    salt: u64,
    i: usize,
    created_at: i64,
    admins: &[Admin],
    n_tags: usize,
    n_companies: usize,
) -> Contact {
    let is_user = rng.chance(0.8);
    let first = *rng.pick(FIRST);
    let last = *rng.pick(LAST);
    let domain_word = rng.pick(WORDS).to_lowercase();
    let updated_at = rng.range(created_at.max(anchor - 90 * DAY), anchor);
    let (country, city) = *rng.pick(PLACES);
    let mut custom = Map::new();
    custom.insert("Job Title".into(), Value::from(*rng.pick(JOB_TITLES)));
    custom.insert("Seats".into(), Value::from(rng.range(1, 50)));
    if rng.chance(0.5) {
        custom.insert("NPS".into(), Value::from(rng.range(0, 100) as f64 / 10.0));
    }
    if rng.chance(0.6) {
        custom.insert("Last Login Date".into(), Value::from(rng.range(anchor - 60 * DAY, anchor)));
    }
    custom.insert("Is Admin".into(), Value::from(rng.chance(0.15)));
    custom.insert("Department".into(), Value::from(*rng.pick(DEPARTMENTS)));

    // Every 97th contact carries more than the embedded list's 10 items, so `has_more` shows.
    let many = i % 97 == 13;
    let tag_count = if many { n_tags.min(12) } else { rng.below(4) as usize };
    let start = rng.below(n_tags.max(1) as u64) as usize;
    let tags = (0..tag_count.min(n_tags)).map(|k| ((start + k) % n_tags, updated_at - k as i64 * 3_600)).collect();
    let company_count = if n_companies == 0 {
        0
    } else if many {
        n_companies.min(12)
    } else {
        rng.below(4) as usize
    };
    let first_company = rng.below(n_companies.max(1) as u64) as usize;
    let companies =
        (0..company_count.min(n_companies)).map(|k| (first_company + k * 7) % n_companies).collect::<Vec<_>>();
    let mut seen = HashSet::new();
    let companies = companies.into_iter().filter(|c| seen.insert(*c)).collect();

    Contact {
        id: format!("{:08x}{:06x}{:010x}", created_at, salt, i),
        external_id: is_user.then(|| format!("usr-{:06}", i + 1)),
        role: if is_user { "user" } else { "lead" },
        email: Some(format!(
            "{}.{}.{}@{}.example.com",
            first.to_lowercase(),
            last.to_lowercase().replace(' ', ""),
            i,
            domain_word
        )),
        phone: rng.chance(0.3).then(|| format!("+3361{:07}", i % 10_000_000)),
        name: Some(format!("{first} {last}")),
        avatar: None,
        owner_id: rng.chance(0.7).then(|| rng.pick(admins).id),
        created_at,
        updated_at,
        signed_up_at: is_user.then_some(created_at),
        last_seen_at: rng.chance(0.8).then(|| rng.range(created_at, updated_at + 1)),
        last_contacted_at: rng.chance(0.4).then(|| rng.range(created_at, updated_at + 1)),
        last_replied_at: rng.chance(0.3).then(|| rng.range(created_at, updated_at + 1)),
        last_email_opened_at: None,
        last_email_clicked_at: None,
        unsubscribed_from_emails: rng.chance(0.05),
        marked_email_as_spam: false,
        has_hard_bounced: rng.chance(0.02),
        country: Some(country),
        city: Some(city),
        custom_attributes: custom,
        tags,
        companies,
        merged_into: None,
        written_at: None,
    }
}

fn seed_ticket_types(anchor: i64) -> (Vec<TicketType>, Vec<TicketState>) {
    let types = vec![
        TicketType {
            id: 95,
            name: "Bug report",
            description: "Something is broken",
            icon: "🐞",
            category: "Customer",
            is_internal: false,
            created_at: anchor - 500 * DAY,
        },
        TicketType {
            id: 96,
            name: "Feature request",
            description: "Something is missing",
            icon: "💡",
            category: "Customer",
            is_internal: false,
            created_at: anchor - 480 * DAY,
        },
        TicketType {
            id: 97,
            name: "Account review",
            description: "Back-office follow-up",
            icon: "📋",
            category: "Back-office",
            is_internal: true,
            created_at: anchor - 300 * DAY,
        },
    ];
    let states = vec![
        TicketState { id: "8537".into(), category: "submitted", label: "Submitted" },
        TicketState { id: "8538".into(), category: "in_progress", label: "In progress" },
        TicketState { id: "8539".into(), category: "waiting_on_customer", label: "Waiting on customer" },
        TicketState { id: "8540".into(), category: "resolved", label: "Resolved" },
    ];
    (types, states)
}

fn seed_ticket(
    rng: &mut SplitMix64,
    anchor: i64,
    i: usize,
    live_contacts: &[usize],
    admins: &[Admin],
    n_types: usize,
    states: &[TicketState],
) -> Ticket {
    let created_at = rng.range(anchor - 180 * DAY, anchor - DAY);
    let state = rng.below(states.len() as u64) as usize;
    let subjects =
        ["Cannot log in", "Export is slow", "Invoice is wrong", "Add SSO", "Dashboard is empty", "Renewal question"];
    Ticket {
        id: 631 + i as i64,
        ticket_id: 38 + i as i64,
        ticket_type: rng.below(n_types as u64) as usize,
        state,
        title: format!("{} #{}", rng.pick(&subjects), i + 1),
        description: rng.chance(0.5).then(|| "Reported through the Messenger".to_string()),
        contacts: if live_contacts.is_empty() { vec![] } else { vec![*rng.pick(live_contacts)] },
        admin_assignee_id: if rng.chance(0.7) { rng.pick(admins).id } else { 0 },
        team_assignee_id: if rng.chance(0.3) { 814_865 } else { 0 },
        open: states[state].category != "resolved",
        updated_at: rng.range(created_at, anchor),
        created_at,
        written_at: None,
    }
}
