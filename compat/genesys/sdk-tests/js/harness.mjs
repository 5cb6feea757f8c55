// Shared by the JS SDK tests: clients pointed at Switchboard with setGateway, native setup calls, and the ledger
// record (each test names the vendor operations it proves; results merge into $RESULTS as files run one by one).
import platformClient from 'purecloud-platform-client-v2';
import { test } from 'node:test';
import fs from 'node:fs';

export const BASE = process.env.BASE;
export const ADMIN_SECRET = process.env.ADMIN_SECRET;
export const PASSWORD = 'correct horse battery';
export const gc = platformClient;
const url = new URL(BASE);
const results = {};

process.on('exit', () => {
  if (!process.env.RESULTS) return;
  const prev = fs.existsSync(process.env.RESULTS) ? JSON.parse(fs.readFileSync(process.env.RESULTS, 'utf8')) : {};
  for (const [op, r] of Object.entries(results)) prev[op] = prev[op] === 'fail' ? 'fail' : r;
  fs.writeFileSync(process.env.RESULTS, JSON.stringify(prev, null, 1));
});

/** A test that proves `ops` (Python names, the ledger's keys). */
export function optest(ops, name, fn) {
  test(name, async (t) => {
    try {
      await fn(t);
      for (const op of ops) results[op] = results[op] === 'fail' ? 'fail' : 'pass';
    } catch (e) {
      for (const op of ops) results[op] = 'fail';
      throw e;
    }
  });
}

export function client(token) {
  const c = new platformClient.ApiClientClass();
  c.setGateway({ host: url.hostname, protocol: 'http', port: Number(url.port), path_params_login: '', path_params_api: '' });
  if (token) c.setAccessToken(token);
  return c;
}

export async function adminClient() {
  const c = client();
  await c.loginClientCredentialsGrant('admin', ADMIN_SECRET);
  return c;
}

export async function native(method, path, { token, body, form } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const r = await fetch(BASE + path, { method, headers, body: form ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

export async function makeAgent(adminToken, roles = ['agent']) {
  const username = `agent-${Math.random().toString(16).slice(2, 10)}`;
  const u = await native('POST', '/v1/users', { token: adminToken, body: { name: username, username, password: PASSWORD, roles } });
  if (u.status !== 201) throw new Error(JSON.stringify(u));
  const t = await native('POST', '/oauth/token', { form: `grant_type=password&username=${username}&password=${encodeURIComponent(PASSWORD)}` });
  if (t.status !== 200) throw new Error(JSON.stringify(t));
  return { id: u.body.id, api: client(t.body.access_token) };
}

/** The rejection of `promise`: the JS SDK rejects with the parsed ErrorBody. */
export async function refusal(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to be refused');
}

export const unique = (p) => `${p}-${Math.random().toString(16).slice(2, 10)}`;

/** A queue with two codes and one agent on queue (native setup), as in the Python tests. */
export async function desk(adminToken, policy = 'optional', timeoutMs) {
  const suffix = Math.random().toString(16).slice(2, 10);
  const codes = [];
  for (const name of ['Resolved', 'Escalated']) {
    codes.push((await native('POST', '/v1/wrapup-codes', { token: adminToken, body: { name: `${name} ${suffix}` } })).body.id);
  }
  const agent = await makeAgent(adminToken);
  const acw = timeoutMs ? { policy, timeoutMs } : { policy };
  const q = await native('POST', '/v1/queues', { token: adminToken, body: { name: `Desk ${suffix}`, acw, wrapupCodes: codes, members: [agent.id] } });
  if (q.status !== 201) throw new Error(JSON.stringify(q));
  await native('PUT', `/v1/users/${agent.id}/routing-status`, { token: adminToken, body: { status: 'onQueue' } });
  const inbound = async (mediaType = 'voice') => {
    const c = await native('POST', '/v1/conversations', { token: adminToken, body: { mediaType, queueId: q.body.id, from: { name: 'Ada', address: '+15550100' } } });
    const offer = c.body.participants.filter((p) => p.purpose === 'agent' && p.userId === agent.id).pop();
    if (!offer || offer.state !== 'alerting') throw new Error(JSON.stringify(c.body));
    return { cid: c.body.id, pid: offer.id, comm: offer.communicationId };
  };
  const nativeConversation = async (cid) => (await native('GET', `/v1/conversations/${cid}`, { token: adminToken })).body;
  return { codes, agent, queueId: q.body.id, inbound, nativeConversation };
}

/** Frames of one socket, awaited one predicate at a time (bounded by a 10 s deadline each). */
export function frames(ws) {
  const queue = [];
  const waiters = [];
  ws.on('message', (data) => {
    queue.push(JSON.parse(data.toString()));
    waiters.splice(0).forEach((w) => w());
  });
  return async (want) => {
    const deadline = Date.now() + 10000;
    for (;;) {
      const i = queue.findIndex(want);
      if (i >= 0) return queue.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error('no such frame within 10 s');
      await new Promise((resolve) => { waiters.push(resolve); setTimeout(resolve, 10000); });
    }
  };
}

