// The authorization-code flow with PKCE in a real browser: the server's login page, a wrong password, the
// right one, the redirect to the app (through the page's CSP), the code exchange, and the token's rights.
// Usage: BASE=http://127.0.0.1:PORT ADMIN_SECRET=... node login.test.mjs
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";

const BASE = process.env.BASE ?? assert.fail("BASE is required");
const ADMIN_SECRET = process.env.ADMIN_SECRET ?? assert.fail("ADMIN_SECRET is required");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const form = (o) => new URLSearchParams(o).toString();
async function call(method, path, token, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
async function token(fields, basic) {
  const headers = { "content-type": "application/x-www-form-urlencoded" };
  if (basic) headers.authorization = "Basic " + Buffer.from(basic.join(":")).toString("base64");
  const r = await fetch(BASE + "/oauth/token", { method: "POST", headers, body: form(fields) });
  return { status: r.status, body: await r.json() };
}

// The "app": where the browser lands after signing in.
let landed;
const arrived = new Promise((resolve) => (landed = resolve));
const app = createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  if (url.pathname === "/callback") landed(url.searchParams);
  res.writeHead(200, { "content-type": "text/html" }).end("<p>signed in</p>");
});
await new Promise((r) => app.listen(0, "127.0.0.1", r));
const redirectUri = `http://127.0.0.1:${app.address().port}/callback`;

const admin = (await token({ grant_type: "client_credentials" }, ["admin", ADMIN_SECRET])).body.access_token;
assert.ok(admin, "the admin client gets a token");
const password = "browser test password";
const user = await call("POST", "/v1/users", admin, { name: "Bea", username: "bea", password, roles: ["agent"] });
assert.equal(user.status, 201, JSON.stringify(user.body));
const client = await call("POST", "/v1/clients", admin, {
  name: "Desk <App>",
  scopes: ["conversations:read"],
  redirectUris: [redirectUri],
});
assert.equal(client.status, 201, JSON.stringify(client.body));

const verifier = randomBytes(48).toString("base64url");
const challenge = createHash("sha256").update(verifier).digest("base64url");
const state = randomBytes(8).toString("hex");
const authorize = `${BASE}/oauth/authorize?${form({
  response_type: "code",
  client_id: client.body.clientId,
  redirect_uri: redirectUri,
  code_challenge: challenge,
  code_challenge_method: "S256",
  state,
})}`;

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
const failures = [];
try {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(String(e)));

  const first = await page.goto(authorize);
  assert.equal(first.status(), 200);
  assert.match(first.headers()["content-security-policy"], /default-src 'none'/);
  // The client's name is shown as text, never as markup.
  assert.equal(await page.locator("strong").textContent(), "Desk <App>");
  assert.equal(await page.locator("script").count(), 0, "the page runs no script");

  // A wrong password: the page again, with the error, nothing leaves the server.
  await page.fill("#username", "bea");
  await page.fill("#password", "not the password");
  await Promise.all([page.waitForLoadState("load"), page.click("button[type=submit]")]);
  assert.match(await page.locator(".error").textContent(), /Unknown user or wrong password/);
  assert.ok(page.url().startsWith(BASE + "/oauth/authorize"), page.url());
  problems.length = 0; // the 401 of that answer is logged as a failed resource load; it was expected

  // The right one: the browser follows the redirect to the app, through the page's CSP.
  await page.fill("#username", "bea");
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  const params = await Promise.race([
    arrived,
    new Promise((_, reject) => setTimeout(() => reject(new Error("the browser never reached the app")), 15000)),
  ]);
  await page.waitForURL((u) => u.toString().startsWith(redirectUri));
  assert.equal(params.get("state"), state);
  const code = params.get("code");
  assert.ok(code, "a code");
  assert.deepEqual(problems, [], "no console errors (a CSP violation would be one)");

  const tokens = await token({
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    client_id: client.body.clientId,
    code_verifier: verifier,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const me = await call("GET", "/v1/users/me", tokens.body.access_token);
  assert.equal(me.body.username, "bea");
  assert.deepEqual(me.body.scopes, ["conversations:read"], "the app holds the user's rights within its grant");
  const replay = await token({
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    client_id: client.body.clientId,
    code_verifier: verifier,
  });
  assert.equal(replay.body.error, "invalid_grant");
  console.log("browser login test: passed");
} catch (e) {
  failures.push(e);
} finally {
  await browser.close();
  app.close();
}
if (failures.length) {
  console.error(failures[0]);
  process.exit(1);
}
