//! `switchboard analytics details|aggregates`: queries a server's analytics and prints a table, CSV or JSON.
//! Details exports page through every result, with progress on stderr.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::io::Write;

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Args, Debug)]
pub struct Connection {
    /// The server.
    #[arg(long, env = "SWITCHBOARD_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A bearer token; or client credentials below.
    #[arg(long, env = "SWITCHBOARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[arg(long, env = "SWITCHBOARD_CLIENT_ID")]
    pub client_id: Option<String>,
    #[arg(long, env = "SWITCHBOARD_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// A file holding the client secret (for secret stores).
    #[arg(long, env = "SWITCHBOARD_CLIENT_SECRET_FILE")]
    pub client_secret_file: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Subcommand, Debug)]
pub enum AnalyticsCmd {
    /// Conversation details in an interval (every page), filtered.
    Details {
        #[command(flatten)]
        conn: Connection,
        /// `start/end`, RFC 3339.
        #[arg(long)]
        interval: String,
        #[arg(long = "queue")]
        queues: Vec<String>,
        #[arg(long = "user")]
        users: Vec<String>,
        #[arg(long = "code")]
        codes: Vec<String>,
        #[arg(long = "media")]
        media: Vec<String>,
        #[arg(long = "state")]
        states: Vec<String>,
        /// Stop after this many conversations (0: all).
        #[arg(long, default_value_t = 0)]
        max: usize,
    },
    /// Aggregates in an interval.
    Aggregates {
        #[command(flatten)]
        conn: Connection,
        #[arg(long)]
        interval: String,
        #[arg(long, default_value = "PT1H")]
        granularity: String,
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long = "group-by")]
        group_by: Vec<String>,
        #[arg(long = "metric")]
        metrics: Vec<String>,
        #[arg(long = "queue")]
        queues: Vec<String>,
    },
}

pub(crate) async fn token(http: &reqwest::Client, c: &Connection) -> anyhow::Result<String> {
    if let Some(t) = &c.token {
        return Ok(t.clone());
    }
    let secret = crate::secret_from(c.client_secret.clone(), c.client_secret_file.as_deref())?;
    let (id, secret) = c
        .client_id
        .as_ref()
        .zip(secret.as_ref())
        .context("give --token, or --client-id and --client-secret (or --client-secret-file)")?;
    crate::client_token(http, &c.url, id, secret).await
}

pub(crate) async fn post(
    http: &reqwest::Client,
    c: &Connection,
    token: &str,
    path: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let r = http.post(format!("{}{path}", c.url)).bearer_auth(token).json(body).send().await?;
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "{status}: {}", v["detail"].as_str().unwrap_or(&v.to_string()));
    Ok(v)
}

/// One row per conversation: the columns people sort and filter in a spreadsheet.
fn detail_row(c: &Value) -> Vec<String> {
    let ps = c["participants"].as_array().cloned().unwrap_or_default();
    let pick = |f: &dyn Fn(&Value) -> Option<String>| ps.iter().filter_map(f).collect::<Vec<_>>().join(" ");
    let agents: Vec<&Value> = ps.iter().filter(|p| p["purpose"] == "agent").collect();
    let sum = |metric: &str| agents.iter().filter_map(|p| p["metrics"][metric].as_i64()).sum::<i64>().to_string();
    vec![
        c["conversationId"].as_str().unwrap_or_default().to_string(),
        c["mediaType"].as_str().unwrap_or_default().to_string(),
        c["startedAt"].as_str().unwrap_or_default().to_string(),
        c["state"].as_str().unwrap_or_default().to_string(),
        pick(&|p| (p["purpose"] == "acd").then(|| p["queueId"].as_str().map(String::from)).flatten()),
        pick(&|p| (p["purpose"] == "agent").then(|| p["userId"].as_str().map(String::from)).flatten()),
        pick(&|p| p["wrapup"]["codeName"].as_str().or(p["wrapup"]["codeId"].as_str()).map(String::from)),
        sum("tTalk"),
        sum("tAcw"),
        sum("tHandle"),
    ]
}

const DETAIL_COLUMNS: [&str; 10] = [
    "conversationId",
    "mediaType",
    "startedAt",
    "state",
    "queues",
    "agents",
    "wrapupCodes",
    "tTalkMs",
    "tAcwMs",
    "tHandleMs",
];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

pub fn render(format: Format, columns: &[&str], rows: &[Vec<String>], out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Csv => {
            writeln!(out, "{}", columns.join(","))?;
            for r in rows {
                writeln!(out, "{}", r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","))?;
            }
        }
        Format::Table => {
            let widths: Vec<usize> = (0..columns.len())
                .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([columns[i].len()]).max().unwrap_or(0))
                .collect();
            let line = |cells: Vec<&str>| {
                cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ")
            };
            writeln!(out, "{}", line(columns.to_vec()))?;
            for r in rows {
                writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
            }
        }
        Format::Json => unreachable!("JSON is written from the documents"),
    }
    Ok(())
}

pub async fn run(cmd: AnalyticsCmd) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cmd {
        AnalyticsCmd::Details { conn, interval, queues, users, codes, media, states, max } => {
            let token = token(&http, &conn).await?;
            let mut cursor = Value::Null;
            let mut docs: Vec<Value> = Vec::new();
            loop {
                let body = json!({"interval": interval, "order": "asc",
                    "filters": {"queueIds": queues, "userIds": users, "wrapupCodeIds": codes, "mediaTypes": media, "states": states},
                    "paging": {"pageSize": 200, "cursor": cursor}});
                let page = post(&http, &conn, &token, "/v1/analytics/conversations/details/query", &body).await?;
                docs.extend(page["conversations"].as_array().cloned().unwrap_or_default());
                eprint!("\r[analytics] {}/{} conversations", docs.len(), page["totalHits"]);
                cursor = page["cursor"].clone();
                if cursor.is_null() || (max > 0 && docs.len() >= max) {
                    break;
                }
            }
            eprintln!();
            if max > 0 {
                docs.truncate(max);
            }
            if conn.format == Format::Json {
                serde_json::to_writer_pretty(&mut out, &docs)?;
                writeln!(out)?;
            } else {
                let rows: Vec<Vec<String>> = docs.iter().map(detail_row).collect();
                render(conn.format, &DETAIL_COLUMNS, &rows, &mut out)?;
            }
        }
        AnalyticsCmd::Aggregates { conn, interval, granularity, time_zone, group_by, metrics, queues } => {
            let token = token(&http, &conn).await?;
            let body = json!({"interval": interval, "granularity": granularity, "timeZone": time_zone, "groupBy": group_by,
                "metrics": metrics, "filters": {"queueIds": queues}});
            let r = post(&http, &conn, &token, "/v1/analytics/conversations/aggregates/query", &body).await?;
            if conn.format == Format::Json {
                serde_json::to_writer_pretty(&mut out, &r)?;
                writeln!(out)?;
                return Ok(());
            }
            let mut rows = Vec::new();
            for g in r["results"].as_array().cloned().unwrap_or_default() {
                let group = g["group"]
                    .as_object()
                    .map(|m| m.values().map(|v| v.as_str().unwrap_or("-").to_string()).collect::<Vec<_>>().join("/"))
                    .unwrap_or_default();
                for d in g["data"].as_array().cloned().unwrap_or_default() {
                    for (metric, v) in d["metrics"].as_object().cloned().unwrap_or_default() {
                        rows.push(vec![
                            group.clone(),
                            d["interval"].as_str().unwrap_or_default().to_string(),
                            metric,
                            v["count"].to_string(),
                            v["sum"].to_string(),
                            v["min"].to_string(),
                            v["max"].to_string(),
                        ]);
                    }
                }
            }
            render(conn.format, &["group", "interval", "metric", "count", "sum", "min", "max"], &rows, &mut out)?;
        }
    }
    Ok(())
}
