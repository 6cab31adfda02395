//! The endpoints the product uses, one method each.

use futures::Stream;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Method;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::client::{IntercomClient, Region, Request};
use super::error::{IntercomError, Result};
use super::models::*;
use super::pagination::{cursor_stream, numbered_stream, CursorPage, HasId, ListPage};
use super::search::{Search, Target};

#[derive(Deserialize)]
struct Bare<T> {
    #[serde(default = "Vec::new", alias = "admins")]
    data: Vec<T>,
}

/// `GET /companies?company_id=` answers one company or a list (UNCONFIRMED which).
/// A company is tried first: every field of a list page is optional, so a list reading
/// would swallow a lone company.
// Not `#[serde(untagged)]`: its buffer cannot give a company its raw text.
enum OneOrList {
    One(Box<Company>),
    List(ListPage<Company>),
}

impl<'de> Deserialize<'de> for OneOrList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        if let Ok(company) = Company::deserialize(&value) {
            return Ok(OneOrList::One(Box::new(company)));
        }
        ListPage::deserialize(&value)
            .map(OneOrList::List)
            .map_err(|_| serde::de::Error::custom("data did not match any variant of untagged enum OneOrList"))
    }
}

impl IntercomClient {
    pub async fn me(&self) -> Result<Me> {
        self.send(Request::get("/me")).await
    }

    pub async fn admins(&self) -> Result<Vec<Admin>> {
        Ok(self.send::<Bare<Admin>>(Request::get("/admins")).await?.data)
    }

    pub async fn data_attributes(&self, model: Model, include_archived: bool) -> Result<Vec<DataAttribute>> {
        let request =
            Request::get("/data_attributes").query("model", model.as_str()).query("include_archived", include_archived);
        Ok(self.send::<Bare<DataAttribute>>(request).await?.data)
    }

    pub async fn create_data_attribute(&self, attribute: &NewDataAttribute) -> Result<DataAttribute> {
        self.send(Request::with_method(Method::POST, "/data_attributes", attribute)?).await
    }

    pub async fn update_data_attribute(&self, id: i64, update: &DataAttributeUpdate) -> Result<DataAttribute> {
        self.send(Request::with_method(Method::PUT, format!("/data_attributes/{id}"), update)?).await
    }

    /// Companies by `last_request_at`, page by page; capped by Intercom at 10,000 (use the
    /// scroll for complete walks).
    pub fn list_companies(&self, per_page: u32) -> impl Stream<Item = Result<Company>> + Send + 'static {
        numbered_stream(self.clone(), move |page| {
            let mut request =
                Request::get("/companies/list").query("page", page).query("per_page", per_page.clamp(1, 150));
            request.method = Method::POST;
            request
        })
    }

    pub async fn company(&self, id: &str) -> Result<Company> {
        self.send(Request::get(format!("/companies/{}", segment(id)))).await
    }

    /// The company with this `company_id`, whichever shape the answer takes.
    pub async fn company_by_company_id(&self, company_id: &str) -> Result<Option<Company>> {
        match self.send::<OneOrList>(Request::get("/companies").query("company_id", company_id)).await {
            Ok(OneOrList::One(company)) => Ok(Some(*company)),
            Ok(OneOrList::List(list)) => {
                Ok(list.data.into_iter().find(|c| c.company_id.as_deref() == Some(company_id)))
            }
            Err(IntercomError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    pub async fn upsert_company(&self, company: &CompanyUpsert) -> Result<Company> {
        self.send(Request::with_method(Method::POST, "/companies", company)?).await
    }

    pub async fn update_company(&self, id: &str, update: &CompanyUpdate) -> Result<Company> {
        self.send(Request::with_method(Method::PUT, format!("/companies/{}", segment(id)), update)?).await
    }

    /// Every contact, 150 a page (Intercom's maximum), by cursor.
    pub fn contacts(&self) -> impl Stream<Item = Result<Contact>> + Send + 'static {
        cursor_stream(self.clone(), |cursor| {
            let request = Request::get("/contacts").query("per_page", 150);
            match cursor {
                Some(c) => request.query("starting_after", c),
                None => request,
            }
        })
    }

    /// One page of every contact, from a cursor (`None`: the first page).
    pub async fn contacts_page(&self, starting_after: Option<&str>) -> Result<CursorPage<Contact>> {
        let mut request = Request::get("/contacts").query("per_page", 150);
        if let Some(cursor) = starting_after {
            request = request.query("starting_after", cursor);
        }
        Ok(self.send::<ListPage<Contact>>(request).await?.into())
    }

    pub async fn search_contacts_page(
        &self,
        search: &Search,
        starting_after: Option<&str>,
    ) -> Result<CursorPage<Contact>> {
        Ok(self.send::<ListPage<Contact>>(search_request("/contacts/search", search, starting_after)).await?.into())
    }

    pub async fn search_tickets_page(
        &self,
        search: &Search,
        starting_after: Option<&str>,
    ) -> Result<CursorPage<Ticket>> {
        Ok(self.send::<ListPage<Ticket>>(search_request("/tickets/search", search, starting_after)).await?.into())
    }

    pub fn search_contacts(&self, search: Search) -> impl Stream<Item = Result<Contact>> + Send + 'static {
        self.search("/contacts/search", search, Target::Contacts)
    }

    pub fn search_tickets(&self, search: Search) -> impl Stream<Item = Result<Ticket>> + Send + 'static {
        self.search("/tickets/search", search, Target::Tickets)
    }

    fn search<T>(
        &self,
        path: &'static str,
        search: Search,
        target: Target,
    ) -> impl Stream<Item = Result<T>> + Send + 'static
    where
        T: DeserializeOwned + HasId + Send + 'static,
    {
        debug_assert_eq!(search.target, target, "a {target:?} search sent to {path}");
        cursor_stream(self.clone(), move |cursor| Request {
            method: Method::POST,
            path: path.to_string(),
            query: Vec::new(),
            body: Some(search.body(cursor)),
            retry_server_errors: true,
        })
    }

    /// A contact; a merged one answers `Gone` with the id that replaced it (2.16).
    pub async fn contact(&self, id: &str) -> Result<Contact> {
        self.send(Request::get(format!("/contacts/{}", segment(id)))).await
    }

    /// Creates a contact. One that already exists with the same `external_id` (or a user
    /// with the same email) answers 409: see `IntercomError::existing_contact_id`.
    pub async fn create_contact(&self, contact: &ContactCreate) -> Result<Contact> {
        self.send(Request::with_method(Method::POST, "/contacts", contact)?).await
    }

    /// Attaches a company (by its Intercom id) to a contact.
    pub async fn attach_contact_company(&self, id: &str, company_id: &str) -> Result<Company> {
        let body = serde_json::json!({ "id": company_id });
        self.send(Request::with_method(Method::POST, format!("/contacts/{}/companies", segment(id)), body)?).await
    }

    pub async fn update_contact(&self, id: &str, update: &ContactUpdate) -> Result<Contact> {
        self.send(Request::with_method(Method::PUT, format!("/contacts/{}", segment(id)), update)?).await
    }

    /// The companies of a contact, all of them (the contact itself embeds at most 10).
    pub fn contact_companies(&self, id: &str) -> impl Stream<Item = Result<Company>> + Send + 'static {
        let path = format!("/contacts/{}/companies", segment(id));
        numbered_stream(self.clone(), move |page| Request::get(path.clone()).query("page", page).query("per_page", 50))
    }

    /// Tags a contact with an existing tag, by the tag's id.
    pub async fn tag_contact(&self, id: &str, tag_id: &str) -> Result<Tag> {
        let body = serde_json::json!({ "id": tag_id });
        self.send(Request::with_method(Method::POST, format!("/contacts/{}/tags", segment(id)), body)?).await
    }

    pub async fn untag_contact(&self, id: &str, tag_id: &str) -> Result<Tag> {
        let path = format!("/contacts/{}/tags/{}", segment(id), segment(tag_id));
        self.send(Request { method: Method::DELETE, ..Request::get(path) }).await
    }

    pub async fn contact_tags(&self, id: &str) -> Result<Vec<Tag>> {
        Ok(self.send::<Bare<Tag>>(Request::get(format!("/contacts/{}/tags", segment(id)))).await?.data)
    }

    pub async fn tags(&self) -> Result<Vec<Tag>> {
        Ok(self.send::<Bare<Tag>>(Request::get("/tags")).await?.data)
    }

    pub async fn ticket(&self, id: &str) -> Result<Ticket> {
        self.send(Request::get(format!("/tickets/{}", segment(id)))).await
    }

    pub async fn ticket_types(&self) -> Result<Vec<TicketType>> {
        Ok(self.send::<Bare<TicketType>>(Request::get("/ticket_types")).await?.data)
    }
}

/// Where OAuth happens: Intercom's regional pages, or one server standing in for Intercom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthEndpoints {
    pub authorize_url: String,
    pub token_url: String,
}

impl OAuthEndpoints {
    /// The token endpoint is documented on the US host only (docs/intercom.md §2).
    pub fn for_region(region: Region) -> Self {
        Self {
            authorize_url: region.authorize_url().to_string(),
            token_url: "https://api.intercom.io/auth/eagle/token".to_string(),
        }
    }

    pub fn at(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        Self { authorize_url: format!("{base}/oauth"), token_url: format!("{base}/auth/eagle/token") }
    }

    /// The consent page address; scopes are set per app, not in the URL.
    pub fn consent_url(&self, client_id: &str, redirect_uri: &str, state: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .finish();
        format!("{}?{query}", self.authorize_url)
    }

    /// Trades the callback's `code` for an access token.
    pub async fn exchange_code(&self, code: &str, client_id: &str, client_secret: &str) -> Result<SecretString> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| IntercomError::Config(e.to_string()))?;
        let response = http
            .post(&self.token_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("code", code), ("client_id", client_id), ("client_secret", client_secret)])
            .send()
            .await
            .map_err(|e| IntercomError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes =
            super::body::read_capped(response, super::body::MAX_BODY_BYTES).await.map_err(|e| e.into_error(status))?;
        if !(200..300).contains(&status) {
            let error = super::error::decode_error(status, &bytes, None);
            return Err(super::error::error_for_status(status, error, None));
        }
        let token: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| IntercomError::Decode {
            status,
            message: e.to_string(),
            request_id: None,
        })?;
        token
            .access_token
            .or(token.token)
            .filter(|t| !t.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| IntercomError::Decode { status, message: "no token in the answer".into(), request_id: None })
    }
}

fn search_request(path: &str, search: &Search, starting_after: Option<&str>) -> Request {
    Request {
        method: Method::POST,
        path: path.to_string(),
        query: Vec::new(),
        body: Some(search.body(starting_after)),
        retry_server_errors: true,
    }
}

/// Everything but RFC 3986's unreserved characters is escaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Ids go into paths percent-encoded: Intercom's are plain, other servers' need not be.
/// A segment of dots alone would walk up the path once the URL is normalised, so its
/// dots are escaped too.
fn segment(id: &str) -> String {
    if !id.is_empty() && id.bytes().all(|b| b == b'.') {
        return "%2E".repeat(id.len());
    }
    utf8_percent_encode(id, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(segment("6762f0761bb69f9f2193bae2"), "6762f0761bb69f9f2193bae2");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(segment("{\"a\": 1}"), "%7B%22a%22%3A%201%7D");
    }

    #[test]
    fn a_segment_of_dots_cannot_walk_up_the_path() {
        assert_eq!(segment("."), "%2E");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("a..b"), "a..b");
    }

    #[test]
    fn the_consent_url_carries_client_redirect_and_state() {
        let url = OAuthEndpoints::for_region(Region::Eu).consent_url("cid", "https://s.io/cb", "st/1");
        assert_eq!(
            url,
            "https://app.eu.intercom.com/oauth?client_id=cid&redirect_uri=https%3A%2F%2Fs.io%2Fcb&state=st%2F1"
        );
    }

    #[test]
    fn a_company_lookup_answered_with_a_list_reads_its_companies_whatever_the_shape_of_next() {
        let company = r#"{"type":"company","id":"6762f0761bb69f9f2193bae2","company_id":"cmp-1"}"#;
        let url = r#""https://api.intercom.io/companies?per_page=15&page=2""#;
        for next in [url, r#"{"page":2,"per_page":15}"#, "null"] {
            let json = format!(
                r#"{{"type":"list","data":[{company}],"total_count":16,
                    "pages":{{"type":"pages","page":1,"per_page":15,"total_pages":2,"next":{next}}}}}"#
            );
            match serde_json::from_str::<OneOrList>(&json) {
                Ok(OneOrList::List(list)) => assert_eq!(list.data[0].id, "6762f0761bb69f9f2193bae2", "next {next}"),
                Ok(OneOrList::One(_)) => panic!("a list read as one company (next {next})"),
                Err(e) => panic!("next {next}: {e}"),
            }
        }
    }

    #[test]
    fn the_token_is_exchanged_on_the_us_host_whatever_the_region() {
        assert_eq!(OAuthEndpoints::for_region(Region::Au).token_url, "https://api.intercom.io/auth/eagle/token");
    }
}
