//! The `switchboard` binary's library: configuration, server wiring (bootstrap, demo seed) and commands,
//! exposed so integration tests start the real server on port 0.

pub mod analytics_cmd;
pub mod bench;
pub mod demo;
pub mod org_cmd;
pub mod server;

/// A secret given directly or as a file (`*_FILE`, for secret stores); the file's trailing newline is not
/// part of the secret.
pub fn secret_from(value: Option<String>, file: Option<&std::path::Path>) -> anyhow::Result<Option<String>> {
    use anyhow::Context;
    match (value, file) {
        (Some(v), _) => Ok(Some(v)),
        (None, Some(f)) => {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading the secret file {}", f.display()))?;
            let secret = text.trim_end_matches(['\n', '\r']).to_string();
            anyhow::ensure!(!secret.is_empty(), "the secret file {} is empty", f.display());
            Ok(Some(secret))
        }
        (None, None) => Ok(None),
    }
}

/// A client-credentials token from a server's `/oauth/token` (Basic client auth), for the CLI's own calls.
pub async fn client_token(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> anyhow::Result<String> {
    let r: serde_json::Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await?
        .json()
        .await?;
    r["access_token"].as_str().map(String::from).ok_or_else(|| anyhow::anyhow!("no token from {base}: {r}"))
}
