//! The one-shot subcommands: `migrate`, `admin create`, `api-key create`.
//! Each opens the store and applies the service's rules to it; none starts
//! a dispatcher.

use std::io::Read;

use domain::user::Role;

use crate::service::password_checks::PasswordChecks;
use crate::service::{add_user, issue_api_key};
use crate::store::Store;

pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// `hookline migrate`: connecting applies every pending migration.
pub async fn migrate(database_url: &str) -> CliResult {
    Store::connect(database_url).await?;
    println!("database is up to date");
    Ok(())
}

/// `hookline admin create --email E --password-stdin`
pub async fn create_user(database_url: &str, email: &str, role: &str) -> CliResult {
    let role = Role::parse(role).ok_or("role must be `admin` or `viewer`")?;
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\n', '\r']);
    let store = Store::connect(database_url).await?;
    // One password to hash: one check at a time is enough.
    let user = add_user(&store, &PasswordChecks::new(1), email, password, role).await?;
    println!("created {} {}", user.role.as_str(), user.email);
    Ok(())
}

/// `hookline api-key create --name N`: the key is the last line of stdout.
pub async fn create_api_key(database_url: &str, name: &str) -> CliResult {
    let store = Store::connect(database_url).await?;
    let created = issue_api_key(&store, name).await?;
    println!(
        "created API key {:?} ({}); it is shown only once:",
        created.key.name, created.key.prefix
    );
    println!("{}", created.secret);
    Ok(())
}
