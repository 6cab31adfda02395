//! Which server answers for each region: Intercom's own hosts, or stand-ins (the sandbox,
//! another fake) named in the server's configuration. Users only ever choose a region.

use super::api::OAuthEndpoints;
use super::client::Region;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntercomHosts {
    /// Stands in for every region.
    pub all: Option<String>,
    pub us: Option<String>,
    pub eu: Option<String>,
    pub au: Option<String>,
}

impl IntercomHosts {
    /// One server for every region (the demo sandbox, tests).
    pub fn single(base_url: impl Into<String>) -> Self {
        Self { all: Some(base_url.into()), ..Self::default() }
    }

    fn stand_in(&self, region: Region) -> Option<&str> {
        let specific = match region {
            Region::Us => &self.us,
            Region::Eu => &self.eu,
            Region::Au => &self.au,
        };
        specific.as_deref().or(self.all.as_deref()).map(|url| url.trim_end_matches('/'))
    }

    /// The REST base URL calls for this region go to.
    pub fn api_base(&self, region: Region) -> String {
        self.stand_in(region).unwrap_or(region.base_url()).to_string()
    }

    /// Where the consent page and the token exchange are for this region.
    pub fn oauth(&self, region: Region) -> OAuthEndpoints {
        match self.stand_in(region) {
            Some(base) => OAuthEndpoints::at(base),
            None => OAuthEndpoints::for_region(region),
        }
    }

    /// True when some region is served by a stand-in rather than Intercom.
    pub fn has_stand_in(&self) -> bool {
        self.all.is_some() || self.us.is_some() || self.eu.is_some() || self.au.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_stand_ins_each_region_uses_intercoms_host() {
        let hosts = IntercomHosts::default();
        assert_eq!(hosts.api_base(Region::Eu), "https://api.eu.intercom.io");
        assert_eq!(hosts.oauth(Region::Au).authorize_url, "https://app.au.intercom.com/oauth");
    }

    #[test]
    fn a_regional_stand_in_wins_over_the_one_for_all() {
        let hosts =
            IntercomHosts { all: Some("http://all/".into()), eu: Some("http://eu".into()), ..Default::default() };
        assert_eq!(hosts.api_base(Region::Eu), "http://eu");
        assert_eq!(hosts.api_base(Region::Us), "http://all");
        assert_eq!(hosts.oauth(Region::Eu).token_url, "http://eu/auth/eagle/token");
    }
}
