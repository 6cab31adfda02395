use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use sandbox::{Sandbox, SandboxConfig, SandboxHub, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TOKEN};
use server::commands::{add_user, add_workspace, command_line_user, connect, explain, integration, workspace};
use server::config::{Cli, Command, SandboxArgs, ServeArgs, SettingsCommand, UserCommand, WorkspaceCommand};
use server::demo::{connect_to_sandbox, describe_accounts, ensure_demo};
use server::startup::{shutdown_signal, Application};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn")),
        )
        // stdout is the commands' own output (a settings export, a run's summary).
        .with_writer(std::io::stderr)
        .init();
    server::startup::install_tls_provider();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Errors exit with 1 (clap's usage errors exit with 2 before this); `server sync` has
/// codes of its own for how the run ended.
async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(Command::Sandbox(args)) = &cli.command {
        return run_sandbox(args.clone()).await.map(|()| ExitCode::SUCCESS);
    }
    // Checked before the database is opened (and created): a refused start leaves nothing.
    let cli = match cli.command {
        None => Cli { command: Some(Command::Serve(ServeArgs::parse_from(["serve"]))), ..cli },
        Some(_) => cli,
    };
    if let Some(Command::Serve(args)) = &cli.command {
        args.check_production_settings().map_err(anyhow::Error::msg)?;
    }
    let url = &cli.database.database_url;
    let shown = server::config::redact_url(url);
    let database = app::store::open(url)
        .await
        .with_context(|| format!("could not open the database at {shown} (--database-url / DATABASE_URL)"))?;

    let done = match cli.command {
        Some(Command::Workspace(WorkspaceCommand::Add { name, slug })) => {
            let workspace = add_workspace(database.directory.as_ref(), &name, slug.as_deref()).await?;
            println!("Created workspace {} (slug: {}, id: {})", workspace.name, workspace.slug, workspace.id);
            Ok(())
        }
        Some(Command::Workspace(WorkspaceCommand::List)) => {
            let directory = database.directory.as_ref();
            let workspaces = directory.workspaces().await?;
            if workspaces.is_empty() {
                println!("No workspace yet: server workspace add --name \"…\"");
            }
            for w in workspaces {
                let connection = directory.store(w.id).intercom_connection().await?;
                let intercom = match connection {
                    Some(c) => format!("Intercom {}", c.workspace_name.as_deref().unwrap_or("(unnamed)")),
                    None => "Intercom not connected".to_string(),
                };
                println!("{}\t{}\t{intercom}", w.slug, w.name);
            }
            Ok(())
        }
        Some(Command::User(UserCommand::Add { workspace: slug, email, role, password })) => {
            let directory = database.directory.as_ref();
            let workspace = workspace(directory, &slug.slug).await?;
            let password = add_user(directory, &workspace, &email, role, password).await?;
            println!("Added {} to {} as {role}", email.trim().to_lowercase(), workspace.slug);
            if let Some(password) = password {
                println!("Password: {password}");
            }
            Ok(())
        }
        Some(Command::Serve(args)) => serve(args, database).await,
        Some(Command::Connect(args)) => {
            let integration = integration(&database, &args.workspace.slug, &args.intercom).await?;
            println!("{}", connect(&integration, args.access_token, args.zone).await?);
            Ok(())
        }
        Some(Command::Settings(SettingsCommand::Export { workspace, output, intercom })) => {
            let integration = integration(&database, &workspace.slug, &intercom).await?;
            let json = integration.export_settings().await.map_err(explain)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, format!("{json}\n"))
                        .with_context(|| format!("could not write {}", path.display()))?;
                    println!("Exported the integration settings to {}", path.display());
                }
                None => println!("{json}"),
            }
            Ok(())
        }
        Some(Command::Settings(SettingsCommand::Import { workspace, file, intercom })) => {
            let json = std::fs::read_to_string(&file).with_context(|| format!("could not read {}", file.display()))?;
            let integration = integration(&database, &workspace.slug, &intercom).await?;
            integration.import_settings(&json, &command_line_user()).await.map_err(explain)?;
            println!("Imported and saved the integration settings from {}", file.display());
            Ok(())
        }
        Some(Command::Sync(args)) => {
            let queue_only = args.queue;
            let status = server::sync_command::run(&database, args).await?;
            if queue_only {
                return Ok(ExitCode::SUCCESS);
            }
            return Ok(ExitCode::from(server::sync_command::exit_code(status)));
        }
        None => unreachable!("no command means serve, set above"),
        Some(Command::Sandbox(_)) => unreachable!("handled before opening the database"),
    };
    done.map(|()| ExitCode::SUCCESS)
}

async fn run_sandbox(args: SandboxArgs) -> anyhow::Result<()> {
    let config = SandboxConfig {
        companies: args.companies,
        contacts: args.contacts,
        tickets: args.tickets,
        conversations: args.conversations,
        seed: args.seed,
        latency: std::time::Duration::from_millis(args.latency_ms),
        fault_rate: args.fault_rate,
        fault_statuses: args.fault_statuses.clone(),
        rate_limit_per_window: args.rate_limit,
        ..SandboxConfig::default()
    };
    let addr = std::net::SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr} (--host / --port)"))?;
    let addr = listener.local_addr()?;
    let workspaces: Vec<Sandbox> = (0..u64::from(args.workspaces))
        .map(|n| {
            let sandbox = Sandbox::new(SandboxConfig { seed: args.seed + n, ..config.clone() });
            sandbox.set_token(&sandbox_token(n));
            sandbox
        })
        .collect();
    let hub = SandboxHub::new(workspaces);
    println!("\nSandbox Intercom at http://{addr}  (token: {SANDBOX_TOKEN})");
    if args.workspaces > 1 {
        let last = sandbox_token(u64::from(args.workspaces) - 1);
        println!(
            "  {} workspaces, each with its own data and token: {SANDBOX_TOKEN}, sandbox-token-2 … {last}",
            args.workspaces
        );
    }
    println!(
        "  {} companies, {} contacts, {} tickets, {} conversations, seed {}",
        args.companies, args.contacts, args.tickets, args.conversations, args.seed
    );
    if args.fault_rate > 0.0 {
        let statuses: Vec<String> = args.fault_statuses.iter().map(u16::to_string).collect();
        println!("  {}% of calls fail with {}", args.fault_rate * 100.0, statuses.join(", "));
    }
    println!("  OAuth client id {SANDBOX_CLIENT_ID}, secret {SANDBOX_CLIENT_SECRET}\nPress Ctrl-C to stop.\n");
    axum::serve(listener, hub.router())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the sandbox stopped with an error")
}

/// The token of the sandbox's workspace `n` (from 0).
fn sandbox_token(n: u64) -> String {
    if n == 0 {
        SANDBOX_TOKEN.to_string()
    } else {
        format!("{SANDBOX_TOKEN}-{}", n + 1)
    }
}

async fn serve(mut args: ServeArgs, database: app::store::Database) -> anyhow::Result<()> {
    let backend = database.directory.backend_name();
    let demo_workspaces = if args.demo { ensure_demo(database.directory.as_ref()).await? } else { Vec::new() };
    // The demo without Intercom credentials nor another Intercom to talk to brings its
    // own: a sandbox workspace worth looking at, so that everything works at once.
    let no_intercom = args.intercom.intercom_client_id.is_none() && !args.intercom.hosts().has_stand_in();
    let _demo_workspace = if args.demo && no_intercom {
        let running = Sandbox::spawn(SandboxConfig::default()).await.context("could not start the demo sandbox")?;
        tracing::info!(url = %running.base_url, "no Intercom credentials: using the sandbox Intercom as a demo workspace");
        args.intercom.intercom_base_url = Some(running.base_url.parse().context("the sandbox URL")?);
        args.intercom.intercom_client_id = Some(SANDBOX_CLIENT_ID.to_string());
        args.intercom.intercom_client_secret = Some(SANDBOX_CLIENT_SECRET.to_string());
        Some(running)
    } else {
        None
    };
    let app = Application::build(&args, database).await?;
    if let (Some(running), Some(first)) = (&_demo_workspace, demo_workspaces.first()) {
        connect_to_sandbox(app.sync(), first, SANDBOX_TOKEN).await.context("could not connect the demo workspace")?;
        // Real time in the demo too: the sandbox notifies the server of every change.
        let endpoint = format!("{}{}", app.public_url().trim_end_matches('/'), app::domain::WEBHOOK_PATH);
        running.sandbox.send_webhooks_to(&endpoint, SANDBOX_CLIENT_SECRET, sandbox::WebhookDelivery::default());
    }
    tracing::info!(addr = %app.local_addr(), database = backend, "Skalin is listening");
    println!("\nSkalin is running at {}", app.public_url());
    if args.demo {
        print!("{}", describe_accounts());
    }
    if let Some(sandbox) = &args.intercom.intercom_base_url {
        println!("Intercom: {}", sandbox.as_str().trim_end_matches('/'));
    }
    println!("Press Ctrl-C to stop.\n");
    app.run_until(shutdown_signal()).await.context("the server stopped with an error")
}
