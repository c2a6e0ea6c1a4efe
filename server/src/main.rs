use std::sync::Arc;

use clap::Parser;
use hookline::config::{AdminCommand, ApiKeyCommand, Cli, Command, ServeArgs};
use hookline::service::password_checks::{self, PasswordChecks};
use hookline::service::Service;
use hookline::store::Store;
use hookline::{cli, serve, telemetry, ServeOptions};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    password_checks::release_large_allocations();
    let cli = Cli::parse();
    let telemetry = telemetry::init(cli.log_format);
    let result = match &cli.command {
        None => run_server(&cli.database_url, &cli.serve).await,
        Some(Command::Serve(args)) => run_server(&cli.database_url, args).await,
        Some(Command::Migrate) => cli::migrate(&cli.database_url).await,
        Some(Command::Admin(AdminCommand::Create { email, role, .. })) => {
            cli::create_user(&cli.database_url, email, role).await
        }
        Some(Command::ApiKey(ApiKeyCommand::Create { name })) => {
            cli::create_api_key(&cli.database_url, name).await
        }
    };
    telemetry.shutdown().await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run_server(database_url: &str, args: &ServeArgs) -> cli::CliResult {
    let settings = args.delivery.settings()?;
    let store = Store::connect(database_url).await?;
    let password_checks = args
        .max_password_checks
        .map_or_else(PasswordChecks::default_slots, |n| n as usize);
    let service = Arc::new(
        Service::new(store, settings)
            .with_retention(*args.retention)
            .with_alert_check_interval(*args.alert_check_interval)
            .with_password_checks(password_checks),
    );
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    println!("Hookline is listening on http://{addr}");
    if args.delivery.allow_private_endpoints {
        println!(
            "Delivery to loopback and private addresses is allowed (--allow-private-endpoints)."
        );
    }
    if let Some(token) = service.open_setup().await? {
        println!("No admin exists yet. Create the first one at: http://{addr}/setup?token={token}");
    }
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: draining attempts in flight");
        on_signal.cancel();
    });
    let options = ServeOptions {
        site_root: args.site_root(),
        http: args.http.settings(),
    };
    serve(listener, service, options, shutdown).await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
