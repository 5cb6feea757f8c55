//! `switchboard org create|list`: organizations on a running server, through the bootstrap admin client
//! (the server owns the database; a second writer beside it would not be seen by its engine).

use crate::analytics_cmd::{Connection, Format, post, token};
use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Subcommand, Debug)]
pub enum OrgCmd {
    /// Create an organization with its own admin client; its secret is printed once.
    Create {
        #[command(flatten)]
        conn: Connection,
        #[arg(long)]
        name: String,
    },
    /// List the organizations.
    List {
        #[command(flatten)]
        conn: Connection,
    },
}

pub async fn run(cmd: OrgCmd) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    match cmd {
        OrgCmd::Create { conn, name } => {
            let t = token(&http, &conn).await?;
            let org = post(&http, &conn, &t, "/v1/admin/orgs", &json!({ "name": name })).await?;
            match conn.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&org)?),
                _ => {
                    println!("organization {} ({}) created", org["name"].as_str().unwrap_or_default(), org["id"]);
                    println!(
                        "admin client: client_id={} client_secret={} (shown once; keep it in a secret store)",
                        org["adminClient"]["clientId"].as_str().unwrap_or_default(),
                        org["adminClient"]["secret"].as_str().unwrap_or_default()
                    );
                }
            }
        }
        OrgCmd::List { conn } => {
            let t = token(&http, &conn).await?;
            let r = http.get(format!("{}/v1/admin/orgs", conn.url)).bearer_auth(&t).send().await?;
            let status = r.status();
            let v: Value = r.json().await.context("reading the answer")?;
            anyhow::ensure!(status.is_success(), "{status}: {}", v["detail"].as_str().unwrap_or(&v.to_string()));
            match conn.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&v)?),
                _ => {
                    for o in v["entities"].as_array().into_iter().flatten() {
                        println!(
                            "{}\t{}",
                            o["id"].as_str().unwrap_or_default(),
                            o["name"].as_str().unwrap_or_default()
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
