//! The command line: flags with environment fallbacks (SPEC §7).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "hookline",
    version,
    about = "Self-hosted webhook service with an admin console"
)]
pub struct Cli {
    /// Database to use; `sqlite://…` (created if missing) or, later, `postgres://…`.
    #[arg(
        long,
        env = "HOOKLINE_DATABASE_URL",
        default_value = "sqlite://hookline.db",
        global = true
    )]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options for `serve`, also accepted without the subcommand (it is the default).
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console, the API and (later) the dispatcher. The default.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage console users.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (the only way, so it stays out of `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// `admin` or `viewer`.
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key; the key is the last line of standard output.
    Create {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "HOOKLINE_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Folder with the console's built assets (`pkg/`, …). Defaults to the one
    /// cargo-leptos names in `LEPTOS_SITE_ROOT`, else `site/` beside the binary,
    /// else `target/site`.
    #[arg(long, env = "HOOKLINE_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
}

impl ServeArgs {
    pub fn site_root(&self) -> PathBuf {
        if let Some(root) = &self.site_root {
            return root.clone();
        }
        if let Ok(root) = std::env::var("LEPTOS_SITE_ROOT") {
            return PathBuf::from(root);
        }
        let beside_binary = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("site")))
            .filter(|dir| dir.is_dir());
        beside_binary.unwrap_or_else(|| PathBuf::from("target/site"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_is_the_default_and_flags_work_without_it() {
        let cli = Cli::try_parse_from([
            "hookline",
            "--addr",
            "127.0.0.1:4000",
            "--database-url",
            "sqlite://x.db",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.addr.port(), 4000);
        assert_eq!(cli.database_url, "sqlite://x.db");
    }

    #[test]
    fn subcommands_parse_as_the_spec_names_them() {
        let cli = Cli::try_parse_from([
            "hookline",
            "admin",
            "create",
            "--email",
            "a@b.io",
            "--password-stdin",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Some(Command::Admin(AdminCommand::Create { ref email, .. })) if email == "a@b.io")
        );
        let cli = Cli::try_parse_from([
            "hookline",
            "api-key",
            "create",
            "--name",
            "ci",
            "--database-url",
            "sqlite://y.db",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Some(Command::ApiKey(ApiKeyCommand::Create { ref name })) if name == "ci")
        );
        assert_eq!(cli.database_url, "sqlite://y.db");
        assert!(Cli::try_parse_from(["hookline", "admin", "create", "--email", "a@b.io"]).is_err());
    }
}
