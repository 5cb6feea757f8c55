//! `App`: the real server on 127.0.0.1:0 with a fresh SQLite file and a manual clock, plus HTTP helpers.

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use switchboard_cli::server::{self, RunningServer, ServeConfig};
use tempfile::TempDir;

pub const ADMIN_SECRET: &str = "test-admin-secret";
pub const PASSWORD: &str = "correct horse battery";

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    #[track_caller]
    pub fn ok(self) -> Value {
        assert!(self.status.is_success(), "expected 2xx, got {}: {}", self.status, self.body);
        self.body
    }
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self.body
    }
}

pub struct App {
    server: Option<RunningServer>,
    _dir: TempDir,
    config: ServeConfig,
    pub base: String,
    pub http: reqwest::Client,
    pub admin: String,
}

impl App {
    pub async fn spawn() -> App {
        App::spawn_with(|_| {}).await
    }

    /// A server whose configuration `tune` adjusts first.
    pub async fn spawn_with(tune: impl FnOnce(&mut ServeConfig)) -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = ServeConfig::new(dir.path().join("switchboard.db"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.manual_clock = true;
        config.admin_client_secret = Some(ADMIN_SECRET.into());
        tune(&mut config);
        let server = server::start(config.clone(), None).await.expect("server starts");
        let base = format!("http://{}", server.addr);
        let mut app =
            App { server: Some(server), _dir: dir, config, base, http: reqwest::Client::new(), admin: String::new() };
        app.admin = app.client_token("admin", ADMIN_SECRET).await;
        app
    }

    /// Talks to a server started elsewhere (a child process) at `base`.
    pub async fn attach(base: &str) -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = ServeConfig::new(dir.path().join("unused.db"));
        let mut app = App {
            server: None,
            _dir: dir,
            config,
            base: base.to_string(),
            http: reqwest::Client::new(),
            admin: String::new(),
        };
        app.admin = app.client_token("admin", ADMIN_SECRET).await;
        app
    }

    /// Stops the server (writer included) and starts it again on the same database.
    pub async fn restart(&mut self) {
        self.server.take().expect("running").stop().await.expect("clean stop");
        let server = server::start(self.config.clone(), None).await.expect("server restarts");
        self.base = format!("http://{}", server.addr);
        self.server = Some(server);
        self.admin = self.client_token("admin", ADMIN_SECRET).await;
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        // A stream never ends: its status and headers are the answer.
        if headers.get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream")) {
            return Resp { status, headers, body: Value::Null };
        }
        let text = resp.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp { status, headers, body }
    }

    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
        let text = body.map(|b| b.to_string());
        self.raw(method, path, Some(token), text.as_deref(), &[]).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, token, None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(body)).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn form_token(&self, form: &str, basic: Option<(&str, &str)>) -> Resp {
        let mut req = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string());
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        let resp = req.send().await.expect("token request");
        let status = resp.status();
        let headers = resp.headers().clone();
        Resp { status, headers, body: resp.json().await.unwrap_or(Value::Null) }
    }

    pub async fn client_token(&self, id: &str, secret: &str) -> String {
        let b = self.form_token("grant_type=client_credentials", Some((id, secret))).await.ok();
        b["access_token"].as_str().expect("access_token").to_string()
    }

    pub async fn login(&self, username: &str) -> String {
        let b = self
            .form_token(
                &format!("grant_type=password&username={username}&password={}", PASSWORD.replace(' ', "+")),
                None,
            )
            .await
            .ok();
        b["access_token"].as_str().expect("access_token").to_string()
    }

    /// Creates a service client with these scopes and returns its token.
    pub async fn client_with(&self, scopes: &[&str]) -> String {
        let c = self.post("/v1/clients", &self.admin, json!({"name": "test client", "scopes": scopes})).await.ok();
        self.client_token(c["clientId"].as_str().unwrap(), c["secret"].as_str().unwrap()).await
    }

    pub async fn code(&self, name: &str) -> String {
        let c = self.post("/v1/wrapup-codes", &self.admin, json!({"name": name})).await.ok();
        c["id"].as_str().unwrap().to_string()
    }

    pub async fn user(&self, username: &str, roles: &[&str]) -> String {
        let u = self
            .post(
                "/v1/users",
                &self.admin,
                json!({"name": username, "username": username, "password": PASSWORD, "roles": roles}),
            )
            .await
            .ok();
        u["id"].as_str().unwrap().to_string()
    }

    /// A queue with the given acw settings, codes and (joined) members.
    pub async fn queue(&self, name: &str, acw: Value, codes: &[&str], members: &[&str]) -> String {
        let q = self
            .post(
                "/v1/queues",
                &self.admin,
                json!({"name": name, "acw": acw, "wrapupCodes": codes, "members": members}),
            )
            .await
            .ok();
        q["id"].as_str().unwrap().to_string()
    }

    pub async fn on_queue(&self, user_id: &str) {
        self.put(&format!("/v1/users/{user_id}/routing-status"), &self.admin, json!({"status": "onQueue"})).await.ok();
    }

    pub async fn routing_status(&self, user_id: &str) -> String {
        let b = self.get(&format!("/v1/users/{user_id}/routing-status"), &self.admin).await.ok();
        b["status"].as_str().unwrap().to_string()
    }

    pub async fn advance(&self, ms: i64) -> Value {
        self.post("/v1/admin/clock", &self.admin, json!({"advanceMs": ms})).await.ok()
    }

    pub async fn conversation(&self, id: &str) -> Value {
        self.get(&format!("/v1/conversations/{id}"), &self.admin).await.ok()
    }

    pub async fn create(&self, token: &str, body: Value) -> Value {
        self.post("/v1/conversations", token, body).await.expect(201)
    }
}

/// The first participant matching `purpose` (and, for agents, `user_id`).
pub fn participant<'a>(conv: &'a Value, purpose: &str, user_id: Option<&str>) -> &'a Value {
    conv["participants"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|p| p["purpose"] == purpose && user_id.is_none_or(|u| p["userId"] == u))
        .unwrap_or_else(|| panic!("no {purpose} participant in {conv}"))
}

pub fn pid(p: &Value) -> String {
    p["id"].as_str().unwrap().to_string()
}
