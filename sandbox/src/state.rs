//! Everything the sandbox knows, behind one lock that is never held across an await.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use super::faults::ScrollPageFault;
use super::model::*;
use super::rng::SplitMix64;
use super::scroll::Scroll;
use super::SandboxConfig;

pub struct State {
    pub config: SandboxConfig,
    /// Seconds added to the real clock, so `set_now` moves time without freezing it
    /// (rate-limit windows must still roll over).
    pub clock_offset: i64,
    pub app_id: String,
    pub app_created_at: i64,
    pub admins: Vec<Admin>,
    pub tags: Vec<Tag>,
    pub segments: Vec<Segment>,
    pub attributes: Vec<DataAttribute>,
    pub next_attribute_id: i64,
    pub companies: Vec<Company>,
    pub company_by_id: HashMap<String, usize>,
    pub company_by_company_id: HashMap<String, usize>,
    /// Sorted by id (ids grow with creation), so a cursor finds its place by binary search.
    pub contacts: Vec<Contact>,
    pub contact_by_id: HashMap<String, usize>,
    /// The middle of every contact id, so created contacts look like seeded ones.
    pub contact_id_salt: u64,
    /// Contacts that were not merged away; only `POST /contacts` changes it (no route deletes).
    pub live_contacts: usize,
    pub ticket_types: Vec<TicketType>,
    pub ticket_states: Vec<TicketState>,
    pub tickets: Vec<Ticket>,
    pub conversations: Vec<Conversation>,
    pub company_counter: u64,
    /// Bumped on every write, so cached search results know when they are stale.
    pub generation: u64,
    pub search_cache: HashMap<String, (u64, std::sync::Arc<Vec<usize>>)>,
    pub scroll: Option<Scroll>,
    pub scroll_fail_after: Option<usize>,
    /// Walks after the next one that fail the same way.
    pub scroll_fail_repeat: usize,
    pub scroll_page_fault: Option<ScrollPageFault>,
    /// Authenticated calls still to be refused with a 429, whatever the window says.
    pub storm_429: u32,
    pub scroll_includes_companies_without_users: bool,
    pub contact_companies_key: &'static str,
    pub ticket_search_gt_inclusive: bool,
    pub contact_dates_by_second: bool,
    pub tokens: HashSet<String>,
    pub oauth_codes: HashMap<String, OauthCode>,
    pub windows: HashMap<String, (i64, u32)>,
    pub fault_rng: SplitMix64,
    /// Which status an injected fault takes, apart from `fault_rng` (see `faults::injected`).
    pub fault_status_rng: SplitMix64,
    pub misc_rng: SplitMix64,
    pub stats: SandboxStats,
    /// Where notifications of changes go, once a test or the demo names an endpoint.
    pub webhooks: Option<super::webhooks::Webhooks>,
}

pub struct OauthCode {
    /// Sandbox clock seconds, so a test can let a code expire with `set_now`.
    pub issued_at: i64,
    pub used: bool,
}

/// What the sandbox served, for tests and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SandboxStats {
    /// Calls per route template, e.g. `"GET /companies/scroll"` or `"GET /contacts/{id}"`.
    pub calls: BTreeMap<String, u64>,
    pub total_calls: u64,
    pub rate_limited: u64,
    pub faults_injected: u64,
    /// Webhook notifications acknowledged by the endpoint, and those given up after the retry.
    pub webhooks_delivered: u64,
    pub webhooks_failed: u64,
}

impl SandboxStats {
    pub fn calls_to(&self, route: &str) -> u64 {
        self.calls.get(route).copied().unwrap_or(0)
    }
}

impl State {
    pub fn now(&self) -> i64 {
        real_now() + self.clock_offset
    }

    pub fn touch(&mut self) {
        self.generation += 1;
    }

    /// Recently written records are not searchable yet, as on the real API.
    pub fn indexed(&self, written_at: Option<Instant>) -> bool {
        match written_at {
            None => true,
            Some(at) => {
                self.config.search_index_delay == Duration::ZERO || at.elapsed() >= self.config.search_index_delay
            }
        }
    }

    /// What the page-numbered company lists show: no deleted companies, none without users.
    pub fn visible_companies(&self) -> impl Iterator<Item = (usize, &Company)> {
        self.companies.iter().enumerate().filter(|(_, c)| !c.deleted && c.user_count > 0)
    }

    /// A contact's companies in its own order, deleted ones left out.
    pub fn contact_companies<'a>(&'a self, contact: &'a Contact) -> impl Iterator<Item = usize> + 'a {
        contact.companies.iter().copied().filter(|&i| self.companies.get(i).is_some_and(|c| !c.deleted))
    }

    /// Tag names are unique in a workspace, so an existing tag is reused.
    pub fn tag_named_or_new(&mut self, name: &str) -> usize {
        if let Some(i) = self.tags.iter().position(|t| t.name == name) {
            return i;
        }
        let id = (9_001 + self.tags.len() as i64).to_string();
        self.tags.push(Tag { id, name: name.to_string() });
        self.tags.len() - 1
    }

    /// Applies a tag as an API or UI write does; the applied_at of the tag on the contact.
    /// Re-applying a tag the contact carries changes nothing (the write is idempotent).
    pub fn attach_tag(&mut self, contact: usize, tag: usize) -> i64 {
        let now = self.now();
        let c = &mut self.contacts[contact];
        if let Some(&(_, at)) = c.tags.iter().find(|(t, _)| *t == tag) {
            return at;
        }
        c.tags.push((tag, now));
        c.updated_at = now;
        c.written_at = Some(Instant::now());
        self.touch();
        self.notify_contact_tag(contact, tag, "created", now);
        now
    }

    /// Removes a tag from a contact; the applied_at it had, or None if it did not carry it.
    pub fn detach_tag(&mut self, contact: usize, tag: usize) -> Option<i64> {
        let now = self.now();
        let c = &mut self.contacts[contact];
        let position = c.tags.iter().position(|(t, _)| *t == tag)?;
        let (_, applied_at) = c.tags.remove(position);
        c.updated_at = now;
        c.written_at = Some(Instant::now());
        self.touch();
        self.notify_contact_tag(contact, tag, "deleted", now);
        Some(applied_at)
    }

    /// An id shaped like the seeded ones (creation time, salt, sequence) that sorts after
    /// every stored id, even with the clock set back, so `contacts` stays in id order.
    pub fn next_contact_id(&self, now: i64) -> String {
        let last =
            self.contacts.last().and_then(|c| c.id.get(..8)).and_then(|t| i64::from_str_radix(t, 16).ok()).unwrap_or(0);
        format!("{:08x}{:06x}{:010x}", now.max(last), self.contact_id_salt, self.contacts.len())
    }

    /// Stores a new contact at the end, where its id sorts; its index.
    pub fn add_contact(&mut self, contact: Contact) -> usize {
        let index = self.contacts.len();
        self.contact_by_id.insert(contact.id.clone(), index);
        self.contacts.push(contact);
        self.live_contacts += 1;
        self.touch();
        self.notify_contact(index, "created");
        index
    }

    /// The live contact a new one would duplicate: the same external_id, or for a user, a
    /// user with the same email. Leads may share an email with anyone.
    // UNCONFIRMED: whether the live API ignores case when it compares emails; the sandbox does.
    pub fn duplicate_of(&self, new: &Contact) -> Option<&Contact> {
        let same_email = |c: &Contact| match (&c.email, &new.email) {
            (Some(a), Some(b)) => new.role == "user" && c.role == "user" && a.eq_ignore_ascii_case(b),
            _ => false,
        };
        self.contacts
            .iter()
            .filter(|c| c.merged_into.is_none())
            .find(|c| (new.external_id.is_some() && c.external_id == new.external_id) || same_email(c))
    }

    /// Attaches a company to a contact as an API write does; attaching it again changes nothing.
    pub fn attach_company(&mut self, contact: usize, company: usize) {
        if self.contacts[contact].companies.contains(&company) {
            return;
        }
        let now = self.now();
        let c = &mut self.contacts[contact];
        c.companies.push(company);
        c.updated_at = now;
        c.written_at = Some(Instant::now());
        self.companies[company].user_count += 1;
        self.touch();
        self.notify_company(company, "company.contact.attached");
    }

    /// The index of a contact that was not merged away.
    pub fn live_contact_index(&self, id: &str) -> Option<usize> {
        let &i = self.contact_by_id.get(id)?;
        self.contacts[i].merged_into.is_none().then_some(i)
    }

    pub fn active_custom_attributes(&self) -> usize {
        self.attributes.iter().filter(|a| a.custom && !a.archived).count()
    }

    pub fn custom_attribute(&self, model: Model, name: &str) -> Option<&DataAttribute> {
        self.attributes.iter().find(|a| a.custom && a.model == model && a.name == name)
    }
}

pub fn real_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
