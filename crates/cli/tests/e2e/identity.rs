//! Identity (issue 7): every OAuth grant, rotation and reuse detection, revocation, PKCE and the login
//! page, expiry, rate limits with their headers, the audit trail, and roles that change at once.

use crate::harness::{ADMIN_SECRET, App, PASSWORD, Resp};
use reqwest::Method;
use serde_json::{Value, json};

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn post_form(app: &App, http: &reqwest::Client, path: &str, body: String) -> Resp {
    let r = http
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("sent");
    let (status, headers) = (r.status(), r.headers().clone());
    let text = r.text().await.unwrap();
    Resp { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

async fn password_grant(app: &App, username: &str) -> Value {
    app.form_token(&form(&[("grant_type", "password"), ("username", username), ("password", PASSWORD)]), None)
        .await
        .ok()
}

async fn refresh(app: &App, token: &str) -> Resp {
    app.form_token(&form(&[("grant_type", "refresh_token"), ("refresh_token", token)]), None).await
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_else(|| panic!("no {k} in {v}")).to_string()
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let app = App::spawn().await;
    app.user("rita", &["agent"]).await;
    let first = password_grant(&app, "rita").await;
    assert_eq!(first["token_type"], "bearer");
    let (access1, refresh1) = (s(&first, "access_token"), s(&first, "refresh_token"));
    let me = app.get("/v1/users/me", &access1).await.ok();
    assert_eq!((me["username"].as_str(), me["roles"][0].as_str()), (Some("rita"), Some("agent")));

    let second = refresh(&app, &refresh1).await.ok();
    let (access2, refresh2) = (s(&second, "access_token"), s(&second, "refresh_token"));
    assert_ne!(refresh1, refresh2, "refresh tokens rotate");
    app.get("/v1/users/me", &access1).await.ok();
    app.get("/v1/users/me", &access2).await.ok();

    // The old refresh token again: reuse. The family ends, every access token of it with it.
    let reuse = refresh(&app, &refresh1).await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.body["error"], "invalid_grant");
    assert!(s(&reuse.body, "error_description").contains("reuse"), "{}", reuse.body);
    for t in [&access1, &access2] {
        let r = app.get("/v1/users/me", t).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body["code"], "token_revoked");
        assert_eq!(r.body["error"], "invalid_token");
        let challenge = r.headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer error=\"invalid_token\""), "{challenge}");
    }
    assert_eq!(refresh(&app, &refresh2).await.body["error"], "invalid_grant", "the newest is dead too");
    // A refresh token is no access token, and a forged one is refused.
    assert_eq!(app.get("/v1/users/me", &refresh2).await.status, 401);
    let forged = refresh(&app, &format!("{}0", &refresh2[..refresh2.len() - 1])).await;
    assert_eq!(forged.body["error"], "invalid_grant");

    // A client_credentials grant has no refresh token.
    let cc = app.form_token("grant_type=client_credentials", Some(("admin", ADMIN_SECRET))).await.ok();
    assert!(cc.get("refresh_token").is_none());
}

#[tokio::test]
async fn revocation_is_immediate_for_access_and_refresh_tokens() {
    let app = App::spawn().await;
    app.user("vic", &["supervisor"]).await;
    let http = reqwest::Client::new();
    // An access token alone.
    let t = password_grant(&app, "vic").await;
    let access = s(&t, "access_token");
    let r = post_form(&app, &http, "/oauth/revoke", form(&[("token", &access)])).await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/v1/users/me", &access).await.body["code"], "token_revoked");
    // The refresh token of that login still works: revoking an access token ends only that token.
    let again = refresh(&app, &s(&t, "refresh_token")).await.ok();
    app.get("/v1/users/me", &s(&again, "access_token")).await.ok();
    // Revoking the refresh token ends the family: its access tokens too.
    let r = post_form(&app, &http, "/oauth/revoke", form(&[("token", &s(&again, "refresh_token"))])).await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/v1/users/me", &s(&again, "access_token")).await.body["code"], "token_revoked");
    assert_eq!(refresh(&app, &s(&again, "refresh_token")).await.body["error"], "invalid_grant");
    // A service client's token.
    let cc = app.form_token("grant_type=client_credentials", Some(("admin", ADMIN_SECRET))).await.ok();
    post_form(&app, &http, "/oauth/revoke", form(&[("token", &s(&cc, "access_token"))])).await;
    assert_eq!(app.get("/v1/clients/me", &s(&cc, "access_token")).await.status, 401);
    // RFC 7009: unknown tokens answer 200 too; a missing one is a bad request.
    assert_eq!(post_form(&app, &http, "/oauth/revoke", form(&[("token", "garbage")])).await.status, 200);
    let r = post_form(&app, &http, "/oauth/revoke", String::new()).await;
    assert_eq!((r.status.as_u16(), r.body["error"].as_str()), (400, Some("invalid_request")));
    // Revocations survive a restart.
    let mut app = app;
    app.restart().await;
    assert_eq!(app.get("/v1/users/me", &access).await.body["code"], "token_revoked");
    // The audit trail has the logins, refresh and revocations with who did them.
    let trail = app.get("/v1/audit", &app.admin).await.ok();
    let actions: Vec<&str> =
        trail["entities"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for a in ["oauth.login", "oauth.refresh", "oauth.revoke"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn expired_tokens_get_a_401_that_says_so() {
    let app = App::spawn_with(|c| c.token_ttl_secs = 0).await;
    let r = app.get("/v1/clients/me", &app.admin).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["code"], "token_expired");
    assert_eq!(r.body["detail"], "the token has expired");
    assert_eq!(r.body["type"], "/problems/token-expired");
    let page = app.raw(Method::GET, "/problems/token-expired", None, None, &[]).await;
    assert_eq!(page.status, 200, "the problem type is explained");
}

#[tokio::test]
async fn bad_credentials_and_headers_get_precise_oauth_errors_that_reveal_nothing() {
    let app = App::spawn_with(|c| c.password_grant = true).await;
    app.user("known", &["agent"]).await;
    let unknown =
        app.form_token(&form(&[("grant_type", "password"), ("username", "nobody"), ("password", "x")]), None).await;
    let wrong =
        app.form_token(&form(&[("grant_type", "password"), ("username", "known"), ("password", "x")]), None).await;
    assert_eq!((unknown.status, wrong.status), (wrong.status, reqwest::StatusCode::BAD_REQUEST));
    assert_eq!(unknown.body, wrong.body, "the same answer whether the user exists or not");
    assert_eq!(wrong.body["error"], "invalid_grant");
    let no_client = app.form_token("grant_type=client_credentials", Some(("ghost", "x"))).await;
    let bad_secret = app.form_token("grant_type=client_credentials", Some(("admin", "x"))).await;
    assert_eq!(no_client.body, bad_secret.body);
    assert_eq!((bad_secret.status.as_u16(), bad_secret.body["error"].as_str()), (401, Some("invalid_client")));
    for (body, error) in [
        ("", "invalid_request"),
        ("grant_type=implicit", "unsupported_grant_type"),
        ("grant_type=password&grant_type=password", "invalid_request"),
        ("grant_type=refresh_token", "invalid_request"),
        ("grant_type=authorization_code&code=x", "invalid_request"),
        ("grant_type=client_credentials&scope=%zz", "invalid_request"),
    ] {
        let r = app.form_token(body, Some(("admin", ADMIN_SECRET))).await;
        assert_eq!((r.status.as_u16(), r.body["error"].as_str()), (400, Some(error)), "{body}: {}", r.body);
    }
    // Malformed Authorization headers: each a 401 saying what is wrong.
    for (header, says) in [
        ("Basic abc", "use Authorization: Bearer"),
        ("Bearer", "use Authorization: Bearer"),
        ("Bearer a b", "use Authorization: Bearer"),
        ("Bearer sb1.00.00", "signature"),
        ("Bearer sb1.7b7d.0000", "signature"),
    ] {
        let r = app.raw(Method::GET, "/v1/users/me", None, None, &[("authorization", header)]).await;
        assert_eq!(r.status, 401, "{header}");
        assert!(r.body["detail"].as_str().unwrap().contains(says), "{header}: {}", r.body);
        assert_eq!(r.body["error"], "invalid_token");
    }
    // A token from another server (another key) is refused the same way.
    let other = App::spawn().await;
    let r = app.get("/v1/clients/me", &other.admin).await;
    assert_eq!(r.status, 401);
    assert!(r.body["detail"].as_str().unwrap().contains("not issued by this server"));
    // With the password grant off, it says so.
    let off = App::spawn_with(|c| c.password_grant = false).await;
    let r = off.form_token("grant_type=password&username=a&password=b", None).await;
    assert_eq!(r.body["error"], "unsupported_grant_type");
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "a-very-long-code-verifier-with-enough-entropy-0123456789";

fn challenge(verifier: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(verifier.as_bytes());
    // base64url without padding, written out here so the test does not share the server's encoder.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bits: String = digest.iter().map(|b| format!("{b:08b}")).collect();
    bits.as_bytes()
        .chunks(6)
        .map(|c| {
            let mut v = 0usize;
            for (i, b) in c.iter().enumerate() {
                v |= ((b - b'0') as usize) << (5 - i);
            }
            A[v] as char
        })
        .collect()
}

/// Walks the login page: GET the form, POST the credentials; returns the redirect's query.
async fn sign_in(app: &App, client_id: &str, password: &str) -> (u16, String) {
    let http = no_redirects();
    let q = form(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("code_challenge", &challenge(VERIFIER)),
        ("code_challenge_method", "S256"),
        ("state", "xyz"),
    ]);
    let page = http.get(format!("{}/oauth/authorize?{q}", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    // Browsers apply form-action to the redirect after the post: the client's origin must be allowed.
    assert!(csp.contains("form-action 'self' http://127.0.0.1:9;"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\" action=\"/oauth/authorize\">"));
    assert!(html.contains("Browser app"), "the page names the application");
    let body = format!("{q}&{}", form(&[("username", "pat"), ("password", password)]));
    let r = http
        .post(format!("{}/oauth/authorize", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (status, location)
}

fn query_param(location: &str, key: &str) -> Option<String> {
    let q = location.split_once('?')?.1;
    q.split('&').find_map(|p| p.strip_prefix(&format!("{key}=")).map(str::to_string))
}

async fn exchange(app: &App, client_id: &str, code: &str, verifier: &str) -> Resp {
    app.form_token(
        &form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("code_verifier", verifier),
        ]),
        None,
    )
    .await
}

/// The user "pat" and a browser app (a client with `REDIRECT` registered, reading conversations only).
async fn browser_app(app: &App) -> Value {
    app.user("pat", &["agent"]).await;
    let body = json!({"name": "Browser app", "scopes": ["conversations:read"], "redirectUris": [REDIRECT]});
    app.post("/v1/clients", &app.admin, body).await.expect(201)
}

#[tokio::test]
async fn the_authorization_code_flow_with_pkce_and_the_login_page() {
    let app = App::spawn().await;
    let c = browser_app(&app).await;
    let client_id = s(&c, "clientId");
    assert_eq!(c["redirectUris"], json!([REDIRECT]));
    let bad = app
        .post(
            "/v1/clients",
            &app.admin,
            json!({"name": "x", "scopes": ["admin"], "redirectUris": ["http://evil.example/cb"]}),
        )
        .await;
    assert_eq!(bad.expect(422)["violations"][0]["pointer"], "/redirectUris/0");

    // Wrong password: the page again, with an error, and no redirect.
    let (status, location) = sign_in(&app, &client_id, "wrong password").await;
    assert_eq!((status, location.as_str()), (401, ""));

    let (status, location) = sign_in(&app, &client_id, PASSWORD).await;
    assert_eq!(status, 303);
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    let code = query_param(&location, "code").expect("a code");
    // A wrong verifier fails, and burns the code.
    let r = exchange(&app, &client_id, &code, &format!("{VERIFIER}-wrong")).await;
    assert_eq!((r.status.as_u16(), r.body["error"].as_str()), (400, Some("invalid_grant")));
    assert!(s(&r.body, "error_description").contains("code_verifier"));
    let r = exchange(&app, &client_id, &code, VERIFIER).await;
    assert!(s(&r.body, "error_description").contains("already used"), "{}", r.body);
    let trail = app.get(&format!("/v1/audit?actor={client_id}"), &app.admin).await.ok();
    assert!(trail.to_string().contains("oauth.codeRejected"), "a burned code is audited: {trail}");

    // A fresh code with the right verifier: tokens for the user, with a refresh token.
    let (_, location) = sign_in(&app, &client_id, PASSWORD).await;
    let code = query_param(&location, "code").unwrap();
    let tokens = exchange(&app, &client_id, &code, VERIFIER).await.ok();
    let me = app.get("/v1/users/me", &s(&tokens, "access_token")).await.ok();
    assert_eq!(me["username"], "pat");
    // The app holds the user's rights only within its own grant.
    assert_eq!(me["scopes"], json!(["conversations:read"]), "{me}");
    assert_eq!(tokens["scope"], "conversations:read");
    // Its refresh token is refreshed by the app only.
    let anonymous = refresh(&app, &s(&tokens, "refresh_token")).await;
    assert_eq!(anonymous.body["error"], "invalid_grant", "{}", anonymous.body);
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &s(&tokens, "refresh_token")),
        ("client_id", &client_id),
    ]);
    let refreshed = app.form_token(&body, None).await.ok();
    assert_eq!(refreshed["scope"], "conversations:read");
    // The same code again: refused, and what it was exchanged for is revoked.
    let r = exchange(&app, &client_id, &code, VERIFIER).await;
    assert_eq!(r.body["error"], "invalid_grant");
    assert_eq!(app.get("/v1/users/me", &s(&tokens, "access_token")).await.body["code"], "token_revoked");

    // Requests the server cannot trust are answered on the page, never by redirecting.
    let http = no_redirects();
    for q in [
        format!("response_type=code&client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fother"),
        "response_type=code&client_id=unknown&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback".to_string(),
    ] {
        let r = http.get(format!("{}/oauth/authorize?{q}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        assert!(r.headers().get("location").is_none());
    }
    // Once the redirect is trusted, errors go back to the client.
    for (q, error) in [
        (
            format!(
                "response_type=token&client_id={client_id}&redirect_uri={}&state=s",
                form(&[("", REDIRECT)]).trim_start_matches('=')
            ),
            "unsupported_response_type",
        ),
        (
            format!(
                "response_type=code&client_id={client_id}&redirect_uri={}&code_challenge=short&code_challenge_method=plain",
                form(&[("", REDIRECT)]).trim_start_matches('=')
            ),
            "invalid_request",
        ),
    ] {
        let r = http.get(format!("{}/oauth/authorize?{q}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{q}");
        let location = r.headers()["location"].to_str().unwrap();
        assert_eq!(query_param(location, "error").as_deref(), Some(error), "{location}");
    }
}

#[tokio::test]
async fn an_expired_authorization_code_is_refused() {
    let app = App::spawn_with(|c| c.code_ttl_secs = 0).await;
    let c = browser_app(&app).await;
    let (_, location) = sign_in(&app, &s(&c, "clientId"), PASSWORD).await;
    let code = query_param(&location, "code").unwrap();
    let r = exchange(&app, &s(&c, "clientId"), &code, VERIFIER).await;
    assert_eq!(r.body["error"], "invalid_grant");
    assert!(s(&r.body, "error_description").contains("expired"));
}

/// A client bound to another loopback address: another "machine" for the per-address budgets.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(ip.parse::<std::net::IpAddr>().unwrap()).build().unwrap()
}

#[tokio::test]
async fn budgets_are_reported_on_every_response_and_a_flood_gets_429_without_touching_others() {
    let app = App::spawn_with(|c| {
        c.rate =
            switchboard_api::RateBudgets { per_identity: 8, per_address: 5, oauth_per_address: 4, per_account: 100 };
    })
    .await;
    // Headers everywhere: anonymous, authenticated, errors.
    let r = app.raw(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(r.headers["ratelimit-limit"], "5");
    let r = app.get("/v1/clients/me", &app.admin).await;
    assert_eq!(r.headers["ratelimit-limit"], "8");
    let remaining: u32 = r.headers["ratelimit-remaining"].to_str().unwrap().parse().unwrap();
    assert_eq!(remaining, 7);
    let reset: u64 = r.headers["ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&reset));

    // Password guessing from one address: 429 once its budget is spent.
    let attacker = client_from("127.0.0.2");
    let guess = || {
        attacker
            .post(format!("{}/oauth/token", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=password&username=admin&password=guess")
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(guess().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 400, 429, 429]);
    let r = guess().await.unwrap();
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Another tenant on another address still gets its token.
    let tenant = app.post("/v1/admin/orgs", &app.admin, json!({"name": "Other tenant"})).await.expect(201);
    let other = client_from("127.0.0.3");
    let r = other
        .post(format!("{}/oauth/token", app.base))
        .basic_auth(s(&tenant["adminClient"], "clientId"), Some(s(&tenant["adminClient"], "secret")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tenant_token = s(&r.json::<Value>().await.unwrap(), "access_token");

    // One identity's budget does not spend another's.
    let mut last = 0;
    for _ in 0..10 {
        last = app.get("/v1/clients/me", &app.admin).await.status.as_u16();
    }
    assert_eq!(last, 429);
    app.get("/v1/clients/me", &tenant_token).await.ok();
}

#[tokio::test]
async fn every_accepted_write_is_in_the_audit_trail_with_actor_and_request_id() {
    let app = App::spawn().await;
    let agent = app.user("ann", &["agent"]).await;
    let q = app.queue("Audited", json!({"policy": "mandatoryTimeout", "timeoutMs": 10_000}), &[], &[&agent]).await;
    app.on_queue(&agent).await;
    let ann = app.login("ann").await;
    let r = app
        .raw(
            Method::POST,
            "/v1/conversations",
            Some(&app.admin),
            Some(&json!({"mediaType": "voice", "queueId": q}).to_string()),
            &[("x-request-id", "trace-123")],
        )
        .await;
    assert_eq!(r.headers["x-request-id"], "trace-123", "a caller's request id is echoed");
    let conv = r.expect(201);
    let id = s(&conv, "id");
    let offer = conv["participants"].as_array().unwrap().iter().find(|p| p["userId"] == agent.as_str()).unwrap();
    let pid = s(offer, "id");
    let answered = app.post(&format!("/v1/conversations/{id}/participants/{pid}/answer"), &ann, json!({})).await;
    let generated = answered.headers["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(generated.len(), 36, "a request without one gets a fresh id");
    app.post(&format!("/v1/conversations/{id}/participants/{pid}/disconnect"), &ann, json!({})).await.ok();
    app.advance(10_000).await;

    let trail = app.get(&format!("/v1/audit?conversationId={id}"), &app.admin).await.ok();
    let rows: Vec<(String, String, Value)> = trail["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (s(e, "action"), format!("{}:{}", s(&e["actor"], "kind"), s(&e["actor"], "id")), e["requestId"].clone())
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("conversation.create".into(), "client:admin".into(), json!("trace-123")),
            ("conversation.answer".into(), format!("user:{agent}"), json!(generated)),
            ("conversation.disconnect".into(), format!("user:{agent}"), rows[2].2.clone()),
            ("timer.wrapupDeadline".into(), "system:system".into(), Value::Null),
        ]
    );
    assert!(trail["entities"][0]["at"].is_string());
    // By actor, and paged.
    let mine = app.get(&format!("/v1/audit?actor={agent}"), &app.admin).await.ok();
    assert!(mine["entities"].as_array().unwrap().iter().all(|e| e["actor"]["id"] == agent.as_str()));
    let page = app.get("/v1/audit?limit=2", &app.admin).await.ok();
    assert_eq!(page["entities"].as_array().unwrap().len(), 2);
    let after = page["nextAfter"].as_u64().expect("a cursor");
    let rest = app.get(&format!("/v1/audit?after={after}&limit=1000"), &app.admin).await.ok();
    assert!(rest["entities"][0]["position"].as_u64().unwrap() > after);
    let configured: Vec<&str> =
        rest["entities"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(configured.contains(&"clock.advance"), "{configured:?}");
    // Admins only, and the query is checked.
    assert_eq!(app.get("/v1/audit", &ann).await.expect(403)["missingScopes"], json!(["admin"]));
    assert_eq!(app.get("/v1/audit?limit=0", &app.admin).await.status, 422);
    assert_eq!(app.get("/v1/audit?after=9223372036854775808", &app.admin).await.status, 422);
    assert_eq!(app.get("/v1/audit?bogus=1", &app.admin).await.status, 400);
}

#[tokio::test]
async fn role_changes_apply_to_tokens_already_issued_and_403_names_the_role() {
    let app = App::spawn().await;
    let id = app.user("sue", &["supervisor"]).await;
    let sue = app.login("sue").await;
    let me = app.get("/v1/users/me", &sue).await.ok();
    assert!(me["scopes"].as_array().unwrap().contains(&json!("analytics:read")));
    app.put(&format!("/v1/users/{id}"), &app.admin, json!({"name": "sue", "username": "sue", "roles": ["agent"]}))
        .await
        .ok();
    let me = app.get("/v1/users/me", &sue).await.ok();
    assert!(!me["scopes"].as_array().unwrap().contains(&json!("analytics:read")), "demoted at once: {me}");
    // A client with users:admin may not make admins: the 403 names the role.
    let hr = app.client_with(&["users:admin"]).await;
    let err = app
        .post("/v1/users", &hr, json!({"name": "x", "username": "x", "password": PASSWORD, "roles": ["admin"]}))
        .await
        .expect(403);
    assert_eq!((err["missingRole"].as_str(), err["missingScopes"][0].as_str()), (Some("admin"), Some("admin")));
}

#[tokio::test]
async fn secrets_tokens_and_message_text_never_reach_the_logs() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("admin-secret");
    std::fs::write(&secret_file, format!("{ADMIN_SECRET}\n")).unwrap();
    let log_path = dir.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--clock", "manual", "--db"])
        .arg(dir.path().join("logs.db"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        // The secret comes from a file, as from a secret store.
        .env("SWITCHBOARD_ADMIN_CLIENT_SECRET_FILE", &secret_file)
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ready = line.contains("listening on");
        printed.push(line);
        if ready {
            break;
        }
    }
    let app = App::attach(&format!("http://127.0.0.1:{port}")).await;
    app.user("logan", &["agent"]).await;
    let login = password_grant(&app, "logan").await;
    let refreshed = refresh(&app, &s(&login, "refresh_token")).await.ok();
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let guest = app
        .raw(Method::POST, "/v1/guest/sessions", None, Some(&json!({"name": "G", "queueId": q}).to_string()), &[])
        .await
        .ok();
    let conv = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let id = s(&conv, "id");
    let text = "my card number is 4111 1111 1111 1111";
    app.post(&format!("/v1/conversations/{id}/messages"), &app.admin, json!({"text": text})).await;
    let bad = app
        .form_token(&form(&[("grant_type", "password"), ("username", "logan"), ("password", "hunter2-wrong")]), None)
        .await;
    assert_eq!(bad.status, 400);
    child.kill().unwrap();
    child.wait().unwrap();
    printed.extend(lines.map_while(Result::ok));
    let logs = std::fs::read_to_string(&log_path).unwrap() + &printed.join("\n");
    assert!(logs.contains("applied schema migration"), "trace logging was on: {logs}");
    for (what, secret) in [
        ("admin secret", ADMIN_SECRET.to_string()),
        ("password", PASSWORD.to_string()),
        ("wrong password", "hunter2-wrong".to_string()),
        ("admin token", app.admin.clone()),
        ("access token", s(&login, "access_token")),
        ("refresh token", s(&refreshed, "refresh_token")),
        ("guest token", s(&guest, "guestToken")),
        ("message text", text.to_string()),
    ] {
        // Any long enough piece of it would be a leak too.
        let probe = &secret[..secret.len().min(24)];
        assert!(!logs.contains(probe), "the {what} reached the logs");
    }
}

#[tokio::test]
async fn a_new_password_or_an_admin_signs_a_user_out_everywhere() {
    let app = App::spawn().await;
    let id = app.user("max", &["agent"]).await;
    let a = password_grant(&app, "max").await;
    let b = password_grant(&app, "max").await;
    // A password change ends every session: whoever had the old password is out.
    let body = json!({"name": "max", "username": "max", "password": "a brand new password", "roles": ["agent"]});
    app.put(&format!("/v1/users/{id}"), &app.admin, body).await.ok();
    for t in [&a, &b] {
        assert_eq!(app.get("/v1/users/me", &s(t, "access_token")).await.body["code"], "token_revoked");
        assert_eq!(refresh(&app, &s(t, "refresh_token")).await.body["error"], "invalid_grant");
    }
    // An admin (or the user) signs out everywhere without a password change.
    let fresh = app
        .form_token(
            &form(&[("grant_type", "password"), ("username", "max"), ("password", "a brand new password")]),
            None,
        )
        .await
        .ok();
    let other = app.user("ola", &["agent"]).await;
    let ola = app.login("ola").await;
    assert_eq!(
        app.call(Method::DELETE, &format!("/v1/users/{id}/sessions"), &ola, None).await.expect(403)["missingScopes"],
        json!(["users:admin"])
    );
    let out = app.call(Method::DELETE, &format!("/v1/users/{id}/sessions"), &app.admin, None).await.ok();
    assert_eq!(out["revokedSessions"], 1);
    assert_eq!(app.get("/v1/users/me", &s(&fresh, "access_token")).await.body["code"], "token_revoked");
    let own = app.call(Method::DELETE, &format!("/v1/users/{other}/sessions"), &ola, None).await.ok();
    assert_eq!(own["revokedSessions"], 1, "a user may sign itself out everywhere");
    let trail = app.get(&format!("/v1/audit?actor={id}"), &app.admin).await.ok();
    assert!(trail.to_string().contains("oauth.login"));
}

#[tokio::test]
async fn guessing_one_account_from_many_addresses_hits_the_account_budget() {
    let app = App::spawn_with(|c| c.rate.per_account = 3).await;
    app.user("target", &["agent"]).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = client_from(&format!("127.0.3.{}", i + 1))
            .post(format!("{}/oauth/token", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=password&username=target&password=guess")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 429, 429]);
    // Unknown accounts are counted the same way: the budget tells nothing about existence.
    let mut unknown = Vec::new();
    for _ in 0..4 {
        unknown.push(app.form_token("grant_type=password&username=ghost&password=x", None).await.status.as_u16());
    }
    assert_eq!(unknown, [400, 400, 400, 429]);
    // Another account is not affected.
    app.user("bystander", &["agent"]).await;
    password_grant(&app, "bystander").await;
}

#[tokio::test]
async fn a_rotated_or_deleted_client_loses_its_secret_and_tokens_at_once() {
    let app = App::spawn().await;
    let c = app
        .post("/v1/clients", &app.admin, json!({"name": "Gateway", "scopes": ["conversations:read"]}))
        .await
        .expect(201);
    let (id, old_secret) = (s(&c, "clientId"), s(&c, "secret"));
    let old_token = app.client_token(&id, &old_secret).await;
    app.get("/v1/clients/me", &old_token).await.ok();
    let rotated = app.post(&format!("/v1/clients/{id}/secret"), &app.admin, json!({})).await.ok();
    let new_secret = s(&rotated, "secret");
    assert_ne!(new_secret, old_secret);
    let r = app.get("/v1/clients/me", &old_token).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (401, Some("token_revoked")), "{}", r.body);
    let r = app.form_token("grant_type=client_credentials", Some((&id, &old_secret))).await;
    assert_eq!(r.body["error"], "invalid_client");
    let fresh = app.client_token(&id, &new_secret).await;
    app.get("/v1/clients/me", &fresh).await.ok();
    assert!(app.get(&format!("/v1/clients/{id}"), &app.admin).await.ok().get("secret").is_none());
    // The bootstrap client is configured on the server, not here.
    assert_eq!(
        app.post("/v1/clients/admin/secret", &app.admin, json!({})).await.expect(403)["code"],
        "bootstrap_client"
    );
    assert_eq!(app.call(Method::DELETE, "/v1/clients/admin", &app.admin, None).await.status, 403);
    // Deleted: its token and its secret stop working.
    app.call(Method::DELETE, &format!("/v1/clients/{id}"), &app.admin, None).await.expect(204);
    assert_eq!(app.get("/v1/clients/me", &fresh).await.status, 401);
    assert_eq!(
        app.form_token("grant_type=client_credentials", Some((&id, &new_secret))).await.body["error"],
        "invalid_client"
    );
    let trail = app.get("/v1/audit", &app.admin).await.ok().to_string();
    assert!(trail.contains("client.rotateSecret") && trail.contains("client.delete"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_limits_key_on_the_forwarded_client_address() {
    let app = App::spawn_with(|c| {
        c.rate.oauth_per_address = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let guess = |xff: &'static str| {
        let req = app
            .http
            .post(format!("{}/oauth/token", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", xff)
            .body("grant_type=password&username=nobody&password=x");
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // The harness's own login already spent one of 127.0.0.1's two; forwarded clients have their own.
    assert_eq!([guess("203.0.113.5").await, guess("203.0.113.5").await, guess("203.0.113.5").await], [400, 400, 429]);
    assert_eq!(guess("203.0.113.6").await, 400, "another client behind the same proxy");
    // An untrusted peer cannot choose its key by sending the header.
    let direct = App::spawn_with(|c| c.rate.oauth_per_address = 2).await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let r = direct
            .http
            .post(format!("{}/oauth/token", direct.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .body("grant_type=password&username=nobody&password=x")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [400, 429, 429], "the peer's budget, whatever the header says");
}
