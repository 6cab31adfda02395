use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use server::commands::{add_user, ensure_demo_accounts, DEMO_ACCOUNTS};
use server::config::{Cli, Command, ServeArgs, UserCommand};
use server::startup::{shutdown_signal, Application};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn")),
        )
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = &cli.database.database_url;
    let database = app::store::open(url)
        .await
        .with_context(|| format!("could not open the database at {url} (--database-url / DATABASE_URL)"))?;

    match cli.command {
        Some(Command::User(UserCommand::Add { email, role, password })) => {
            let generated = password.is_none();
            let password = add_user(database.store.as_ref(), &email, role, password).await?;
            println!("Created {role} {}", email.trim().to_lowercase());
            if generated {
                println!("Password: {password}");
            }
            Ok(())
        }
        Some(Command::Serve(args)) => serve(args, database).await,
        None => serve(ServeArgs::parse_from(["serve"]), database).await,
    }
}

async fn serve(args: ServeArgs, database: app::store::Database) -> anyhow::Result<()> {
    let backend = database.store.backend_name();
    if args.demo {
        ensure_demo_accounts(database.store.as_ref()).await?;
    }
    let app = Application::build(&args, database).await?;
    tracing::info!(addr = %app.local_addr(), database = backend, "Skalin is listening");
    println!("\nSkalin is running at {}", app.public_url());
    if args.demo {
        println!("Demo accounts:");
        for (email, password, role) in DEMO_ACCOUNTS {
            println!("  {role:<6}  {email}  /  {password}");
        }
    }
    println!("Press Ctrl-C to stop.\n");
    app.run_until(shutdown_signal()).await.context("the server stopped with an error")
}
