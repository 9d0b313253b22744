//! Start-up: open the store (engine chosen once, from the URL), build the
//! router, bind the listener. Tests call [`build`] with port 0, or
//! [`Server::builder`] to give the server their own store and clock.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, header},
    response::IntoResponse,
};
use tower_http::{
    catch_panic::CatchPanicLayer, set_header::SetResponseHeaderLayer, timeout::TimeoutLayer, trace::TraceLayer,
};
use usher_core::{Clock, CoreConfig, Store, SystemClock, Usher};

use crate::{config::Config, error::ApiError};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub usher: Usher,
    pub config: Arc<Config>,
}

/// A bound, ready server.
pub struct Server {
    /// The address actually bound (port 0 resolved).
    pub addr: SocketAddr,
    /// The one-time link to create the first administrator, while none exists.
    pub setup_link: Option<String>,
    pub state: AppState,
    listener: tokio::net::TcpListener,
    router: Router,
    mailer: crate::mail::Mailer,
}

/// Opens the configured database, applies migrations and builds the services.
pub async fn open_usher(config: &Config) -> anyhow::Result<Usher> {
    usher_on(open_store(config).await?, config, Arc::new(SystemClock))
}

/// Opens the configured database (the engine chosen by the URL scheme) and
/// applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url();
    let store: Arc<dyn Store> = if let Some(path) = sqlite_path(url) {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).with_context(|| format!("creating data folder {}", parent.display()))?;
        }
        Arc::new(
            usher_store::sqlite::SqliteStore::connect(url)
                .await
                .with_context(|| format!("opening {}", database_name(url)))?,
        )
    } else {
        Arc::new(
            usher_store::postgres::PostgresStore::connect(url)
                .await
                .with_context(|| format!("opening {}", database_name(url)))?,
        )
    };
    Ok(store)
}

/// The services on an open store.
fn usher_on(store: Arc<dyn Store>, config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Usher> {
    let core = CoreConfig {
        session_idle: config.session_idle,
        session_max: config.session_max,
        base_url: config.base_url.clone(),
        lockout: config.lockout.clone(),
        admin_password_max_age_days: config.admin_password_max_age_days,
        ..CoreConfig::default()
    };
    Ok(Usher::with_clock(store, core, clock)?)
}

/// The file of a `sqlite:` URL.
fn sqlite_path(url: &str) -> Option<&std::path::Path> {
    let path = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    Some(std::path::Path::new(path.split('?').next().unwrap_or(path)))
}

/// The database a URL names, for messages: the SQLite file, or the PostgreSQL
/// database, server and user (never the password).
pub fn database_name(url: &str) -> String {
    if let Some(path) = sqlite_path(url) {
        return format!("the SQLite database {}", path.display());
    }
    match url::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("localhost");
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let user = if u.username().is_empty() { String::new() } else { format!(" as {}", u.username()) };
            format!("the PostgreSQL database {} on {host}{port}{user}", u.path().trim_start_matches('/'))
        }
        Err(_) => "the PostgreSQL database".to_owned(),
    }
}

/// Builds the server: database, first-start initialization, router, listener.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    Server::builder(config).build().await
}

/// A server from its configuration, with parts of the caller's where given.
pub struct ServerBuilder {
    config: Config,
    store: Option<Arc<dyn Store>>,
    clock: Arc<dyn Clock>,
}

impl ServerBuilder {
    /// Runs on this store instead of opening the configured database (tests
    /// keep a handle on it).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Reads the time from `clock` instead of the system's (tests move it with
    /// a `usher_core::TestClock`).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// As [`build`].
    pub async fn build(self) -> anyhow::Result<Server> {
        let Self { mut config, store, clock } = self;
        let store = match store {
            Some(store) => store,
            None => open_store(&config).await?,
        };
        let listener =
            tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        if config.listen.port() == 0 && config.base_url.ends_with(":0") {
            config.base_url = format!("http://{addr}");
        }
        let mailer = crate::mail::Mailer::from_config(&config)?;
        let usher = usher_on(store, &config, clock)?;
        // A database that cannot write lets nobody sign in: refuse to start instead.
        usher.check_writable().await.map_err(|e| {
            anyhow::anyhow!(
                "{} does not accept writes ({e}); make it writable by the user Usher runs as (file and folder \
                 permissions, a read-write mount, a database role with write rights) and check that its disk has space",
                database_name(config.database_url())
            )
        })?;
        let init = usher.initialize().await?;
        let setup_link = init.setup_token.map(|t| format!("{}/setup/{t}", config.base_url));
        let state = AppState { usher, config: Arc::new(config) };
        let router = router(state.clone());
        Ok(Server { addr, setup_link, state, listener, router, mailer })
    }
}

impl Server {
    /// Builds a server from `config`, with a store or a clock of the caller's
    /// if given; [`build`] is the short way without them.
    pub fn builder(config: Config) -> ServerBuilder {
        ServerBuilder { config, store: None, clock: Arc::new(SystemClock) }
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests. The
    /// email delivery worker runs alongside and stops with the server.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let retry = usher_core::mail::RetryPolicy { base: self.state.config.smtp_retry_base, ..Default::default() };
        let jobs = tokio::spawn(crate::jobs::run(self.state.usher.clone(), stopped.clone()));
        let worker = tokio::spawn(crate::mail::run(self.state.usher.clone(), self.mailer, retry, stopped));
        let app = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                let _ = stop.send(true);
            })
            .await;
        let _ = worker.await;
        let _ = jobs.await;
        served
    }
}

fn router(state: AppState) -> Router {
    let (api, _) = crate::api::router().split_for_parts();
    let security_headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    ];
    let mut app = Router::new()
        .merge(api)
        .merge(crate::web::router())
        .fallback(|| async { ApiError::not_found().into_response() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "This address does not accept this HTTP method.",
            )
            .into_response()
        })
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(state);
    for (name, value) in security_headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    app.layer(SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("cache-control"),
        HeaderValue::from_static("no-store"),
    ))
    .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
    .layer(CatchPanicLayer::custom(|_| {
        tracing::error!("a request handler panicked");
        ApiError::from(usher_core::Error::internal("panic")).into_response()
    }))
    .layer(TraceLayer::new_for_http())
}
