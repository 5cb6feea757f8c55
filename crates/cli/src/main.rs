//! `switchboard`: serve the engine, migrate the database.

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use switchboard_cli::server::{self, ServeConfig};

#[derive(Parser)]
#[command(name = "switchboard", version, about = "A contact-center conversation engine")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct BenchCli {
    #[command(subcommand)]
    sub: Option<BenchSub>,
    #[command(flatten)]
    run: switchboard_cli::bench::BenchArgs,
}

#[derive(Subcommand)]
enum BenchSub {
    /// Fill a database with closed conversations (bulk path) and time a cold start of `serve` on it.
    Seed(switchboard_cli::bench::seed::SeedArgs),
    /// Measure another tenant's latency while /oauth/token is flooded with password guesses.
    Flood(switchboard_cli::bench::flood::FloodArgs),
    /// Compare the Genesys facade with the native API: a read, a listing and a write, interleaved.
    Genesys(switchboard_cli::bench::genesys::GenesysArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum ClockKind {
    System,
    Manual,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server.
    Serve {
        #[arg(long, env = "SWITCHBOARD_DB", default_value = "switchboard.db")]
        db: PathBuf,
        #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// `manual`: time stands still until POST /v1/admin/clock moves it.
        #[arg(long, env = "SWITCHBOARD_CLOCK", value_enum, default_value = "system")]
        clock: ClockKind,
        /// Seed a demo org when the database is empty, and print how to log in.
        #[arg(long)]
        demo: bool,
        #[arg(long, env = "SWITCHBOARD_ADMIN_CLIENT_ID", default_value = "admin")]
        admin_client_id: String,
        #[arg(long, env = "SWITCHBOARD_ADMIN_CLIENT_SECRET", hide_env_values = true)]
        admin_client_secret: Option<String>,
        /// A file holding the admin client secret (for secret stores).
        #[arg(long, env = "SWITCHBOARD_ADMIN_CLIENT_SECRET_FILE")]
        admin_client_secret_file: Option<PathBuf>,
        /// Access-token lifetime.
        #[arg(long, env = "SWITCHBOARD_TOKEN_TTL_SECS", default_value_t = 3600)]
        token_ttl_secs: i64,
        /// A refresh-token family ends after this long without a refresh.
        #[arg(long, env = "SWITCHBOARD_REFRESH_TTL_SECS", default_value_t = 30 * 24 * 3600)]
        refresh_ttl_secs: i64,
        /// Requests per minute per caller identity with a valid token (0: unlimited).
        #[arg(long, env = "SWITCHBOARD_RATE_PER_IDENTITY", default_value_t = 6000)]
        rate_per_identity: u32,
        /// Requests per minute per client address without a valid token (0: unlimited).
        #[arg(long, env = "SWITCHBOARD_RATE_PER_ADDRESS", default_value_t = 600)]
        rate_per_address: u32,
        /// Requests per minute per client address on /oauth/* (0: unlimited).
        #[arg(long, env = "SWITCHBOARD_RATE_OAUTH_PER_ADDRESS", default_value_t = 60)]
        rate_oauth_per_address: u32,
        /// Sign-in attempts per username per minute, from any address (0: unlimited).
        #[arg(long, env = "SWITCHBOARD_RATE_PER_ACCOUNT", default_value_t = 20)]
        rate_per_account: u32,
        /// A refresh-token family ends this long after sign-in, however often it is refreshed.
        #[arg(long, env = "SWITCHBOARD_SESSION_MAX_SECS", default_value_t = 90 * 24 * 3600)]
        session_max_secs: i64,
        /// Reverse proxies (addresses or CIDR blocks, comma-separated) whose X-Forwarded-For names the client.
        #[arg(long, env = "SWITCHBOARD_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<switchboard_api::client_address::Cidr>,
        /// Guest (web messaging) sessions per client address per minute.
        #[arg(long, env = "SWITCHBOARD_GUEST_SESSIONS_PER_MINUTE", default_value_t = 30)]
        guest_sessions_per_minute: u32,
        /// Refuse the OAuth password grant.
        #[arg(long, env = "SWITCHBOARD_DISABLE_PASSWORD_GRANT")]
        disable_password_grant: bool,
        /// Let webhooks target loopback, private and link-local addresses (refused by default).
        #[arg(long, env = "SWITCHBOARD_ALLOW_PRIVATE_WEBHOOKS")]
        allow_private_webhooks: bool,
        /// Seconds between heartbeats on Genesys notification sockets.
        #[arg(long, env = "SWITCHBOARD_GENESYS_HEARTBEAT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        genesys_heartbeat_secs: u64,
    },
    /// Run the load generator against a fresh (or a given loopback) server and write a JSON report;
    /// `bench seed` fills a database with closed conversations and times a cold start on it.
    Bench(BenchCli),
    /// Query a server's analytics: details (every page) or aggregates, as a table, CSV or JSON.
    #[command(subcommand)]
    Analytics(switchboard_cli::analytics_cmd::AnalyticsCmd),
    /// Organizations on a running server (through the bootstrap admin client).
    #[command(subcommand)]
    Org(switchboard_cli::org_cmd::OrgCmd),
    /// Apply pending database migrations and report the schema version.
    Migrate {
        #[arg(long, env = "SWITCHBOARD_DB", default_value = "switchboard.db")]
        db: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr: stdout carries reports and exports.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,switchboard=info".into()),
        )
        .init();
    match Cli::parse().command {
        Cmd::Serve {
            db,
            listen,
            clock,
            demo,
            admin_client_id,
            admin_client_secret,
            admin_client_secret_file,
            token_ttl_secs,
            refresh_ttl_secs,
            rate_per_identity,
            rate_per_address,
            rate_oauth_per_address,
            rate_per_account,
            session_max_secs,
            trusted_proxies,
            guest_sessions_per_minute,
            disable_password_grant,
            allow_private_webhooks,
            genesys_heartbeat_secs,
        } => {
            anyhow::ensure!(
                token_ttl_secs > 0 && refresh_ttl_secs > 0 && session_max_secs > 0,
                "token and session lifetimes must be positive"
            );
            let secret = switchboard_cli::secret_from(admin_client_secret, admin_client_secret_file.as_deref())?;
            let config = ServeConfig {
                listen,
                manual_clock: clock == ClockKind::Manual,
                demo,
                admin_client_id,
                admin_client_secret: secret,
                token_ttl_secs,
                refresh_ttl_secs,
                rate: switchboard_api::RateBudgets {
                    per_identity: rate_per_identity,
                    per_address: rate_per_address,
                    oauth_per_address: rate_oauth_per_address,
                    per_account: rate_per_account,
                },
                session_max_secs,
                trusted_proxies,
                guest_sessions_per_minute,
                password_grant: !disable_password_grant,
                allow_private_webhooks,
                genesys_heartbeat_secs,
                ..ServeConfig::new(db.clone())
            };
            let mut running = server::start(config, None).await?;
            for note in &running.notes {
                println!("{note}");
            }
            println!(
                "switchboard listening on http://{} (database {}, {} clock)",
                running.addr,
                db.display(),
                if clock == ClockKind::Manual { "manual" } else { "system" }
            );
            tokio::select! {
                r = running.wait() => r?,
                _ = tokio::signal::ctrl_c() => {
                    println!("shutting down");
                    running.stop().await?;
                }
            }
        }
        Cmd::Bench(BenchCli { sub: Some(BenchSub::Seed(args)), .. }) => {
            let report = switchboard_cli::bench::seed::run(args).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Cmd::Bench(BenchCli { sub: Some(BenchSub::Flood(args)), .. }) => {
            let report = switchboard_cli::bench::flood::run(args).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Cmd::Bench(BenchCli { sub: Some(BenchSub::Genesys(args)), .. }) => {
            let report = switchboard_cli::bench::genesys::run(args).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Cmd::Bench(BenchCli { sub: None, run }) => {
            let report = switchboard_cli::bench::run(run).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Cmd::Analytics(cmd) => switchboard_cli::analytics_cmd::run(cmd).await?,
        Cmd::Org(cmd) => switchboard_cli::org_cmd::run(cmd).await?,
        Cmd::Migrate { db } => {
            println!("migrating {} ...", db.display());
            let report = switchboard_store_sqlite::migrate(&db)?;
            println!("schema version {} -> {}", report.from_version, report.to_version);
        }
    }
    Ok(())
}
