//! The `Intercom-Version` a request asked for; responses branch on it
//! (docs/intercom.md §10).

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    pub const V2_16: ApiVersion = ApiVersion { major: 2, minor: 16 };

    /// `Preview` (formerly `Unstable`) is ahead of every numbered version.
    pub fn parse(raw: &str) -> Option<ApiVersion> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("preview") || raw.eq_ignore_ascii_case("unstable") {
            return Some(ApiVersion { major: 2, minor: 99 });
        }
        let (major, minor) = raw.split_once('.')?;
        let version = ApiVersion { major: major.parse().ok()?, minor: minor.parse().ok()? };
        let known = (version.major == 1 && version.minor <= 4) || (version.major == 2 && version.minor <= 16);
        known.then_some(version)
    }

    pub fn at_least_2_16(self) -> bool {
        self >= Self::V2_16
    }
}
