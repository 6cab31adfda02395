use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a signed-in person may do: admins edit integration settings, members read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn can_edit_settings(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            other => Err(format!("unknown role `{other}`: expected `admin` or `member`")),
        }
    }
}

/// A Skalin workspace: one Skalin customer, with its own people, Intercom connection,
/// settings, records and runs. The slug names it on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

/// A person's place in a workspace: which one, and what they may do there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub workspace: Workspace,
    pub role: Role,
}

/// The person behind a session, in the workspace they are looking at, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    /// Their role in `workspace`.
    pub role: Role,
    pub workspace: Workspace,
    /// Every workspace they belong to, `workspace` among them, by name.
    pub workspaces: Vec<Membership>,
}

/// Turns a workspace's name into its slug: lower-case ASCII letters and digits, words
/// joined by `-` ("Acme Corp." is `acme-corp`). Empty when the name has no such character.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_whatever_their_case() {
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!(" member ".parse::<Role>(), Ok(Role::Member));
    }

    #[test]
    fn an_unknown_role_is_refused_with_the_expected_values() {
        let err = "owner".parse::<Role>().unwrap_err();
        assert!(err.contains("`admin` or `member`"), "{err}");
    }

    #[test]
    fn a_slug_keeps_the_words_of_a_name_in_lower_case() {
        assert_eq!(slugify("Acme Corp."), "acme-corp");
        assert_eq!(slugify("  Globex -- 2 "), "globex-2");
        assert_eq!(slugify("Été"), "t");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn only_admins_edit_settings() {
        assert!(Role::Admin.can_edit_settings());
        assert!(!Role::Member.can_edit_settings());
    }
}
