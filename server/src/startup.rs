//! From configuration to a listening server: secret key, options, router, listener.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use app::assets::SiteAssets;
use app::config::AppConfig;
use app::secrets::SecretKey;
use app::state::AppState;
use app::store::{Database, SessionBackend};
use app::sync::SyncService;
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;
use tower_sessions::session_store::ExpiredDeletion;

use crate::config::{parse_secret_key, IntercomArgs, ServeArgs};

pub struct Application {
    listener: TcpListener,
    router: Router,
    addr: SocketAddr,
    public_url: String,
    /// The sync worker this process runs beside the web server, unless disabled.
    worker: Option<SyncService>,
    sync: SyncService,
    sessions: SessionBackend,
}

/// Expired sessions are only refused when presented; rows of sessions never presented
/// again would pile up without this.
const SESSION_CLEANUP_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl Application {
    /// Binds the listener (port 0 picks a free one) and assembles the router.
    pub async fn build(args: &ServeArgs, database: Database) -> anyhow::Result<Self> {
        install_tls_provider();
        let listener = TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("could not listen on {} (--addr / SKALIN_ADDR)", args.addr))?;
        let addr = listener.local_addr()?;
        let public_url = match &args.public_url {
            Some(_) => args.public_url(),
            None => format!("http://{addr}"),
        };

        let leptos_options = LeptosOptions::builder()
            .output_name(env!("LEPTOS_OUTPUT_NAME"))
            .site_root(args.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .env(if cfg!(debug_assertions) { Env::DEV } else { Env::PROD })
            .build();
        if !args.site_root.join("pkg").is_dir() {
            tracing::warn!(
                site_root = %args.site_root.display(),
                "no built site here: pages will render but not hydrate (run `cargo leptos build`)"
            );
        }

        let key = if args.demo { KeySource::DemoFile } else { KeySource::Required };
        let config = Arc::new(app_config(&public_url, &args.intercom, key)?);
        let sync = SyncService::new(database.directory.clone(), config.clone(), args.engine_config());
        let worker = args.sync_worker.then(|| sync.clone());
        let assets = Arc::new(SiteAssets::find(
            &args.site_root.join("pkg"),
            &leptos_options.output_name,
            &leptos_options.site_pkg_dir,
        ));
        tracing::debug!(?assets, "the browser bundle");
        let webhooks = app::webhooks::Recorder::start(database.directory.clone());
        let state =
            AppState { leptos_options, directory: database.directory, config, sync: sync.clone(), webhooks, assets };
        let web = crate::web::WebSettings {
            session_idle: time::Duration::minutes(i64::from(args.session_idle_minutes)),
            session_lifetime: std::time::Duration::from_secs(u64::from(args.session_max_hours) * 3600),
            client_ip_header: args.client_ip_header.clone(),
        };
        let sessions = database.sessions.clone();
        let router = crate::web::router(state, database.sessions, web);
        Ok(Self { listener, router, addr, public_url, worker, sync, sessions })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The sync of every workspace, as the server functions reach it.
    pub fn sync(&self) -> &SyncService {
        &self.sync
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    /// A run cut short by the shutdown is taken over by the next worker to start.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        if let Some(engine) = self.worker {
            let mut stopped_runs = stopped.clone();
            let mut stopped_notifications = stopped.clone();
            tokio::spawn(engine.clone().apply_notifications_forever(async move {
                let _ = stopped_notifications.wait_for(|s| *s).await;
            }));
            tokio::spawn(engine.run_forever(async move {
                let _ = stopped_runs.wait_for(|s| *s).await;
            }));
        }
        tokio::spawn(delete_expired_sessions(self.sessions, SESSION_CLEANUP_EVERY));
        let shutdown = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// At once, then every `period`, for as long as the process runs.
async fn delete_expired_sessions(sessions: SessionBackend, period: std::time::Duration) {
    let mut every = tokio::time::interval(period);
    loop {
        every.tick().await;
        if let Err(err) = sessions.delete_expired().await {
            tracing::warn!(error = %err, "could not delete expired sessions; trying again later");
        }
    }
}

/// Where the key that encrypts Intercom tokens comes from when `SECRET_KEY` is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Production: nowhere; start-up stops and says so.
    Required,
    /// `serve --demo`: generated once into data/secret.key and read back after.
    DemoFile,
    /// Commands: the demo's file when there is one, never a new key.
    ExistingDemoFile,
}

const DEMO_KEY_FILE: &str = "data/secret.key";

/// The configuration server functions and commands share.
pub fn app_config(public_url: &str, intercom: &IntercomArgs, source: KeySource) -> anyhow::Result<AppConfig> {
    let demo_file = Path::new(DEMO_KEY_FILE);
    let secret_key = match (&intercom.secret_key, source) {
        (Some(key), _) => key.clone(),
        (None, KeySource::DemoFile) => local_secret_key(demo_file)?,
        (None, KeySource::ExistingDemoFile) if demo_file.exists() => {
            tracing::warn!(path = DEMO_KEY_FILE, "no SECRET_KEY given: using the demo's key");
            local_secret_key(demo_file)?
        }
        (None, _) => anyhow::bail!(
            "SECRET_KEY (--secret-key) is not set: it encrypts Intercom tokens at rest. Make one with \
             `openssl rand -hex 32` and keep it (tokens saved under a key cannot be read with another); \
             only `serve --demo` makes one up"
        ),
    };
    Ok(AppConfig {
        public_url: public_url.to_string(),
        secret_key,
        intercom_client_id: intercom.intercom_client_id.clone(),
        intercom_client_secret: intercom.intercom_client_secret.clone(),
        intercom_hosts: intercom.hosts(),
    })
}

fn local_secret_key(path: &Path) -> anyhow::Result<SecretKey> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return parse_secret_key(&text).map_err(|e| anyhow::anyhow!("{} is not a valid key: {e}", path.display()));
    }
    let key: [u8; 32] = rand::random();
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    }
    write_private(path, &hex).with_context(|| format!("could not write {}", path.display()))?;
    tracing::warn!(path = %path.display(), "no SECRET_KEY given: generated one; set SECRET_KEY in production");
    Ok(SecretKey(key))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Both rustls back-ends end up compiled in (reqwest and sqlx pick different ones); TLS
/// set-ups that rely on the process default would panic without one chosen.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_key_is_kept_and_read_back() {
        let dir = std::env::temp_dir().join(format!("skalin-key-{}", rand::random::<u64>()));
        let path = dir.join("secret.key");
        let first = local_secret_key(&path).unwrap();
        let second = local_secret_key(&path).unwrap();
        assert_eq!(first, second);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
