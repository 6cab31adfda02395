//! Command line and environment. Every setting can come from a flag or its variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use app::domain::{Role, Zone};
use app::secrets::SecretKey;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "server", version, about = "Skalin's Intercom integration: web app and tools")]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (the default).
    Serve(ServeArgs),
    /// Manage the Skalin workspaces this deployment serves.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Manage the people who can sign in.
    #[command(subcommand)]
    User(UserCommand),
    /// Serve the sandbox Intercom on its own: a fake workspace with seeded data.
    Sandbox(SandboxArgs),
    /// Connect Intercom with a private app's access token, checked with GET /me first.
    Connect(ConnectArgs),
    /// Export or import the integration settings as JSON.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Run a sync now, with a progress bar and the run's summary at the end.
    #[command(after_help = crate::sync_command::EXIT_CODES)]
    Sync(SyncArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// customers, contacts or interactions; repeat for several. Default: every object.
    #[arg(long = "object", value_parser = parse_object)]
    pub objects: Vec<app::domain::SyncObject>,
    /// Read everything, not only what changed since the last run.
    #[arg(long, conflicts_with = "incremental")]
    pub full: bool,
    /// Read only what changed since the last run (a full walk is not forced when due).
    #[arg(long)]
    pub incremental: bool,
    /// Show what the run would create, update and churn, without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Churn the customers that run RUN held back (over the threshold), then stop.
    #[arg(long, value_name = "RUN")]
    pub confirm_churn: Option<i64>,
    /// Only queue the run, for the servers' workers, print its number and exit 0.
    #[arg(long, conflicts_with = "confirm_churn")]
    pub queue: bool,
    /// A run whose process stopped beating this many seconds ago is taken over (at once
    /// when that process is gone from this host).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..))]
    pub takeover_after: u64,
    /// How long the company scroll may spend on walks thrown away by restarts before the
    /// customers are given up for this run (the run then ends partial).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub scroll_restart_budget: u64,
    #[command(flatten)]
    pub intercom: IntercomArgs,
}

fn parse_object(value: &str) -> Result<app::domain::SyncObject, String> {
    app::domain::SyncObject::parse(value)
        .ok_or_else(|| format!("`{value}` is not an object to sync: use customers, contacts or interactions"))
}

#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    #[arg(long, default_value_t = 4010)]
    pub port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    #[arg(long, default_value_t = 300)]
    pub companies: usize,
    #[arg(long, default_value_t = 3000)]
    pub contacts: usize,
    #[arg(long, default_value_t = 200)]
    pub tickets: usize,
    #[arg(long, default_value_t = 200)]
    pub conversations: usize,
    /// The same seed gives the same workspace.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of API calls answered with an injected 5xx, from 0 to 1.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub fault_rate: f64,
    /// The statuses of the injected faults, in equal parts, e.g. 502,503.
    #[arg(long, value_delimiter = ',', default_values_t = [500, 502, 503], value_parser = parse_server_status)]
    pub fault_statuses: Vec<u16>,
    /// Calls allowed per token in each 10-second window.
    #[arg(long, default_value_t = 1667)]
    pub rate_limit: u32,
    /// Independent Intercom workspaces behind this one address, each with its own data
    /// (seeds SEED, SEED+1, …), app id and token: the first takes `sandbox-token`, the
    /// others `sandbox-token-2`, `sandbox-token-3`…
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub workspaces: u16,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person to a workspace with a role: creates their account if it is new
    /// (without --password, a random password is generated and printed), or gives an
    /// existing one this role in the workspace.
    Add {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long, env = "SKALIN_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

/// How to reach Intercom and keep its tokens: shared by `serve` and the commands that
/// talk to Intercom (`connect`, `settings`).
#[derive(Clone, Args)]
pub struct IntercomArgs {
    /// 64 hex characters (32 bytes) that encrypt Intercom tokens at rest. Required, but
    /// for `serve --demo`, which generates one once into data/secret.key (and the
    /// commands, which then read that file).
    #[arg(long, env = "SECRET_KEY", value_parser = parse_secret_key, hide_env_values = true)]
    pub secret_key: Option<SecretKey>,
    #[arg(long, env = "INTERCOM_CLIENT_ID")]
    pub intercom_client_id: Option<String>,
    #[arg(long, env = "INTERCOM_CLIENT_SECRET", hide_env_values = true)]
    pub intercom_client_secret: Option<String>,
    /// Send every Intercom call (and OAuth) to this server instead of Intercom's regional
    /// hosts: the sandbox, or another Intercom-compatible server. Without it and without
    /// OAuth credentials, the app starts its own sandbox as a demo workspace.
    #[arg(long, env = "INTERCOM_BASE_URL", value_parser = parse_public_url)]
    pub intercom_base_url: Option<url::Url>,
    /// Like --intercom-base-url, for the US region only (wins over it).
    #[arg(long, env = "INTERCOM_BASE_URL_US", value_parser = parse_public_url)]
    pub intercom_base_url_us: Option<url::Url>,
    /// Like --intercom-base-url, for the EU region only (wins over it).
    #[arg(long, env = "INTERCOM_BASE_URL_EU", value_parser = parse_public_url)]
    pub intercom_base_url_eu: Option<url::Url>,
    /// Like --intercom-base-url, for the Australian region only (wins over it).
    #[arg(long, env = "INTERCOM_BASE_URL_AU", value_parser = parse_public_url)]
    pub intercom_base_url_au: Option<url::Url>,
}

/// Without the secrets: start-up errors and debug logs print these.
impl std::fmt::Debug for IntercomArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given = |set: bool| if set { "<redacted>" } else { "<none>" };
        f.debug_struct("IntercomArgs")
            .field("secret_key", &given(self.secret_key.is_some()))
            .field("intercom_client_id", &self.intercom_client_id)
            .field("intercom_client_secret", &given(self.intercom_client_secret.is_some()))
            .field("hosts", &self.hosts())
            .finish()
    }
}

impl IntercomArgs {
    /// Where each region's Intercom calls go.
    pub fn hosts(&self) -> app::intercom::IntercomHosts {
        let url = |u: &Option<url::Url>| u.as_ref().map(|u| u.as_str().trim_end_matches('/').to_string());
        app::intercom::IntercomHosts {
            all: url(&self.intercom_base_url),
            us: url(&self.intercom_base_url_us),
            eu: url(&self.intercom_base_url_eu),
            au: url(&self.intercom_base_url_au),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// A private app's access token (Intercom Developer Hub → your app → Authentication).
    #[arg(long, env = "INTERCOM_ACCESS_TOKEN", hide_env_values = true)]
    pub access_token: String,
    /// us, eu or au: where the workspace is hosted (Intercom's answer to GET /me wins).
    #[arg(long, default_value = "us", value_parser = parse_zone)]
    pub zone: Zone,
    #[command(flatten)]
    pub intercom: IntercomArgs,
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print the integration settings as JSON (or write them to --output).
    Export {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        intercom: IntercomArgs,
    },
    /// Check a settings file exactly as Save does (against the live Intercom fields), then save it.
    Import {
        #[command(flatten)]
        workspace: WorkspaceArg,
        file: PathBuf,
        #[command(flatten)]
        intercom: IntercomArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace; prints its slug, which the other commands take as --workspace.
    Add {
        #[arg(long)]
        name: String,
        /// Default: made from the name (`Acme Corp` is `acme-corp`).
        #[arg(long)]
        slug: Option<String>,
    },
    /// List the workspaces: slug, name, and whether Intercom is connected.
    List,
}

/// The workspace a command acts on: always named, never a default picked silently.
#[derive(Debug, Clone, Args)]
pub struct WorkspaceArg {
    /// The workspace's slug (`server workspace list` shows them).
    #[arg(long = "workspace", value_name = "SLUG")]
    pub slug: String,
}

fn parse_zone(value: &str) -> Result<Zone, String> {
    Zone::parse(value).ok_or_else(|| format!("`{value}` is not a zone: use us, eu or au"))
}

#[derive(Clone, Args)]
pub struct DatabaseArgs {
    /// sqlite://path/to/file.db or postgres://user@host/db
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/skalin.db", value_parser = parse_database_url, global = true)]
    pub database_url: String,
}

impl std::fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseArgs").field("database_url", &redact_url(&self.database_url)).finish()
    }
}

/// The URL with its password replaced: database URLs go into error messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, Clone, Parser)]
#[command(name = "serve")]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SKALIN_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// The URL people use to reach the app (defaults to http://ADDR).
    #[arg(long, env = "PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<url::Url>,
    #[command(flatten)]
    pub intercom: IntercomArgs,
    /// Where the built site (the WASM bundle, CSS) is read from.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "SESSION_IDLE_MINUTES", default_value_t = 720, value_parser = clap::value_parser!(u32).range(1..))]
    pub session_idle_minutes: u32,
    /// Behind a reverse proxy: the header it puts the client's address in (e.g.
    /// X-Forwarded-For; its last entry counts). Sign-in throttling is per address, so
    /// without it every user behind the proxy shares one.
    #[arg(long, env = "SKALIN_CLIENT_IP_HEADER", value_parser = parse_header_name)]
    pub client_ip_header: Option<axum::http::HeaderName>,
    /// Hours after sign-in at which a session ends, however busy.
    #[arg(long, env = "SESSION_MAX_HOURS", default_value_t = 168, value_parser = clap::value_parser!(u32).range(1..))]
    pub session_max_hours: u32,
    /// The zero-set-up demo: create the demo admin and member accounts and print them,
    /// generate a secret key when none is given, and start a sandbox Intercom when no
    /// Intercom is configured. Never in production.
    #[arg(long)]
    pub demo: bool,
    /// Run queued and scheduled syncs in this process (`false`: another process does).
    #[arg(long, env = "SKALIN_SYNC_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub sync_worker: bool,
    /// Seconds without a heartbeat after which another process takes a sync run over (at
    /// once when that process is gone from this host).
    #[arg(long, env = "SKALIN_SYNC_STALE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..))]
    pub sync_stale_seconds: u64,
    /// Sync runs this process works at once, each of another workspace (a workspace has
    /// one run at a time). Runs mostly wait for Intercom, so a few share 2 cores well.
    #[arg(long, env = "SKALIN_SYNC_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub sync_concurrency: u16,
}

impl ServeArgs {
    /// What a production start must not do silently: make up the key that encrypts
    /// tokens, or send every Intercom call to the built-in sandbox. Both are for `--demo`.
    pub fn check_production_settings(&self) -> Result<(), String> {
        let intercom = &self.intercom;
        if intercom.intercom_client_id.is_some() != intercom.intercom_client_secret.is_some() {
            return Err("INTERCOM_CLIENT_ID (--intercom-client-id) and INTERCOM_CLIENT_SECRET \
                 (--intercom-client-secret) go together: set both, from your Intercom app's \
                 Authentication page"
                .to_string());
        }
        if self.demo {
            return Ok(());
        }
        if intercom.secret_key.is_none() {
            return Err("SECRET_KEY (--secret-key) is not set: it encrypts Intercom tokens at rest. \
                 Make one with `openssl rand -hex 32` and keep it; only --demo makes one up"
                .to_string());
        }
        if intercom.intercom_client_id.is_none() && !intercom.hosts().has_stand_in() {
            return Err("no Intercom is configured: set INTERCOM_CLIENT_ID and INTERCOM_CLIENT_SECRET \
                 (--intercom-client-id / --intercom-client-secret) for Connect me, or \
                 INTERCOM_BASE_URL (--intercom-base-url) for an Intercom-compatible server; the \
                 built-in sandbox Intercom runs only with --demo"
                .to_string());
        }
        Ok(())
    }

    pub fn engine_config(&self) -> app::sync::EngineConfig {
        let stale = std::time::Duration::from_secs(self.sync_stale_seconds);
        app::sync::EngineConfig {
            worker: app::sync::worker_id("web"),
            stale_after: stale,
            heartbeat_every: (stale / 6).max(std::time::Duration::from_secs(1)),
            concurrent_runs: usize::from(self.sync_concurrency),
            ..app::sync::EngineConfig::default()
        }
    }
}

impl ServeArgs {
    /// Reads `serve` flags from a list, as the command line would (tests, embedding).
    pub fn from_flags<I, T>(flags: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let flags = flags.into_iter().map(Into::into);
        Self::try_parse_from(std::iter::once(std::ffi::OsString::from("serve")).chain(flags))
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_string(),
            None => format!("http://{}", self.addr),
        }
    }
}

fn parse_fraction(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err("expected a number from 0 to 1, e.g. 0.02".to_string()),
    }
}

fn parse_server_status(value: &str) -> Result<u16, String> {
    match value.trim().parse::<u16>() {
        Ok(status) if (500..=599).contains(&status) => Ok(status),
        _ => Err("expected HTTP statuses from 500 to 599, e.g. 502,503".to_string()),
    }
}

fn parse_header_name(value: &str) -> Result<axum::http::HeaderName, String> {
    value.trim().parse().map_err(|_| format!("`{value}` is not a header name, e.g. X-Forwarded-For"))
}

fn parse_role(value: &str) -> Result<Role, String> {
    value.parse()
}

fn parse_database_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.starts_with("sqlite:") || value.starts_with("postgres://") || value.starts_with("postgresql://") {
        Ok(value.to_string())
    } else {
        Err("expected sqlite://FILE or postgres://USER@HOST/DATABASE".to_string())
    }
}

fn parse_public_url(value: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("expected an http or https URL, not {other}://")),
    }
}

pub fn parse_secret_key(value: &str) -> Result<SecretKey, String> {
    let value = value.trim();
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("expected 64 hexadecimal characters (32 bytes), e.g. from `openssl rand -hex 32`".to_string());
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&value[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(SecretKey(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("server").chain(args.iter().copied()))
    }

    #[test]
    fn no_subcommand_means_serve_on_the_default_sqlite_file() {
        let cli = parse(&[]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.database.database_url, "sqlite://data/skalin.db");
    }

    #[test]
    fn a_bad_address_is_refused_naming_the_setting() {
        let err = parse(&["serve", "--addr", "nowhere"]).unwrap_err().to_string();
        assert!(err.contains("--addr"), "{err}");
    }

    #[test]
    fn a_database_url_of_another_kind_is_refused_naming_the_setting() {
        let err = parse(&["--database-url", "mysql://x/y"]).unwrap_err().to_string();
        assert!(err.contains("--database-url") && err.contains("sqlite://"), "{err}");
    }

    #[test]
    fn a_short_secret_key_is_refused_with_how_to_make_one() {
        let err = parse(&["serve", "--secret-key", "abc"]).unwrap_err().to_string();
        assert!(err.contains("--secret-key") && err.contains("64 hexadecimal"), "{err}");
    }

    #[test]
    fn a_hex_secret_key_becomes_its_bytes() {
        let key = parse_secret_key(&"0f".repeat(32)).unwrap();
        assert_eq!(key.0, [0x0f; 32]);
    }

    #[test]
    fn the_public_url_must_be_http() {
        let err = parse(&["serve", "--public-url", "ftp://example.com"]).unwrap_err().to_string();
        assert!(err.contains("--public-url") && err.contains("http"), "{err}");
    }

    #[test]
    fn the_public_url_defaults_to_the_address() {
        let args = ServeArgs::try_parse_from(["serve", "--addr", "127.0.0.1:3000"]).unwrap();
        assert_eq!(args.public_url(), "http://127.0.0.1:3000");
    }

    #[test]
    fn a_fault_rate_above_one_is_refused() {
        let err = parse(&["sandbox", "--fault-rate", "2"]).unwrap_err().to_string();
        assert!(err.contains("--fault-rate") && err.contains("0 to 1"), "{err}");
    }

    #[test]
    fn the_sandbox_takes_a_fault_rate_and_the_statuses_of_its_faults() {
        let Some(Command::Sandbox(args)) =
            parse(&["sandbox", "--fault-rate", "0.05", "--fault-statuses", "502,503"]).unwrap().command
        else {
            panic!("not the sandbox command");
        };
        assert_eq!((args.fault_rate, args.fault_statuses), (0.05, vec![502, 503]));
        let Some(Command::Sandbox(args)) = parse(&["sandbox"]).unwrap().command else {
            panic!("not the sandbox command");
        };
        assert_eq!(args.fault_statuses, vec![500, 502, 503], "the sandbox's own default mix");
    }

    #[test]
    fn a_fault_status_that_is_not_a_5xx_is_refused() {
        let err = parse(&["sandbox", "--fault-statuses", "500,429"]).unwrap_err().to_string();
        assert!(err.contains("--fault-statuses") && err.contains("500 to 599"), "{err}");
    }

    #[test]
    fn the_sandbox_listens_on_4010_by_default() {
        let Some(Command::Sandbox(args)) = parse(&["sandbox", "--companies", "10"]).unwrap().command else {
            panic!("not the sandbox command");
        };
        assert_eq!((args.port, args.companies, args.contacts), (4010, 10, 3000));
    }

    fn serve(flags: &[&str]) -> ServeArgs {
        ServeArgs::try_parse_from(std::iter::once("serve").chain(flags.iter().copied())).unwrap()
    }

    #[test]
    fn production_needs_a_secret_key_and_an_intercom() {
        let key = "ab".repeat(32);
        let no_key = serve(&["--intercom-base-url", "http://intercom.test"]).check_production_settings();
        assert!(no_key.unwrap_err().contains("SECRET_KEY (--secret-key)"));
        let no_intercom = serve(&["--secret-key", &key]).check_production_settings();
        let message = no_intercom.unwrap_err();
        assert!(message.contains("INTERCOM_CLIENT_ID") && message.contains("--demo"), "{message}");
        let ready = serve(&["--secret-key", &key, "--intercom-client-id", "id", "--intercom-client-secret", "s"]);
        assert_eq!(ready.check_production_settings(), Ok(()));
    }

    #[test]
    fn the_demo_may_make_up_its_key_and_intercom() {
        assert_eq!(serve(&["--demo"]).check_production_settings(), Ok(()));
    }

    #[test]
    fn a_client_id_without_its_secret_is_refused_even_in_the_demo() {
        let err = serve(&["--demo", "--intercom-client-id", "id"]).check_production_settings().unwrap_err();
        assert!(err.contains("INTERCOM_CLIENT_SECRET"), "{err}");
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let key = "cd".repeat(32);
        let args = serve(&["--secret-key", &key, "--intercom-client-id", "id", "--intercom-client-secret", "hush-123"]);
        let shown = format!("{args:?}");
        assert!(!shown.contains("hush-123") && !shown.contains(&key), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        let cli = parse(&["--database-url", "postgres://skalin:pa55word@db.example/skalin"]).unwrap();
        let shown = format!("{:?}", cli.database);
        assert!(!shown.contains("pa55word") && shown.contains("db.example"), "{shown}");
    }

    #[test]
    fn an_unknown_role_is_refused() {
        let err = parse(&["user", "add", "--email", "a@b.co", "--role", "owner"]).unwrap_err().to_string();
        assert!(err.contains("--role"), "{err}");
    }
}
