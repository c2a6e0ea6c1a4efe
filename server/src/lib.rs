#![recursion_limit = "256"]
//! Hookline's server: configuration, store, service layer, HTTP API and the
//! console's backend. `main.rs` only wires these together.

pub mod cli;
pub mod clock;
pub mod config;
pub mod dispatcher;
pub mod http;
pub mod ids;
pub mod metrics;
pub mod service;
pub mod store;
pub mod tasks;
pub mod telemetry;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::http::HttpSettings;
use crate::service::Service;

/// Options for the console's pages: the built assets live in `site_root`,
/// named by their content hash when a hash list for them is found (see
/// `http::assets`), else by their plain names.
pub fn leptos_options(site_root: &Path, addr: std::net::SocketAddr) -> LeptosOptions {
    let output_name = env!("LEPTOS_OUTPUT_NAME");
    let pkg_dir = "pkg";
    let mut options = LeptosOptions::builder()
        .output_name(output_name)
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir(pkg_dir)
        .site_addr(addr)
        .build();
    if let Some(hash_file) = http::assets::find_hash_file(site_root, pkg_dir, output_name) {
        // Absolute: leptos reads it relative to the binary's folder.
        let hash_file = std::path::absolute(&hash_file).unwrap_or(hash_file);
        options.hash_files = true;
        options.hash_file = hash_file.to_string_lossy().as_ref().into();
    }
    options
}

/// What `serve` needs besides the service: where the console's assets are,
/// and how the HTTP server guards itself.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub site_root: PathBuf,
    pub http: HttpSettings,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            site_root: PathBuf::from("target/site"),
            http: HttpSettings::default(),
        }
    }
}

/// Serves the console and the API on `listener`, and runs the dispatcher,
/// until `shutdown` is cancelled: then the server stops taking requests, the
/// dispatcher drains, and this returns.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    options: ServeOptions,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    http::connections::ensure_file_limit(options.http.max_connections);
    let grace = service.dispatcher().settings().shutdown_grace;
    let dispatcher = dispatcher::spawn(
        service.dispatcher(),
        service.store().clone(),
        shutdown.clone(),
    );
    let retention = tasks::spawn_retention(service.clone(), shutdown.clone());
    let alert_watch = tasks::spawn_alert_watch(service.clone(), shutdown.clone());
    let http_settings = Arc::new(options.http);
    let state = http::AppState {
        service,
        leptos_options: leptos_options(&options.site_root, addr),
        shutdown: shutdown.clone(),
        http: http_settings.clone(),
        live_streams: Arc::default(),
    };
    http::connections::serve(
        listener,
        http::router(state),
        &http_settings,
        shutdown.clone(),
        grace,
    )
    .await;
    shutdown.cancel();
    if let Err(err) = dispatcher.await {
        tracing::error!(error = %err, "the dispatcher stopped abnormally");
    }
    let _ = retention.await;
    let _ = alert_watch.await;
    Ok(())
}
