// The web messaging guest socket with the `ws` package (no official npm guest SDK exists): the guest sees
// Presence Disconnect after the backend ends the conversation, through the Platform SDK's disconnect.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import WebSocket from 'ws';
import { BASE, adminClient, desk, frames, gc, native } from './harness.mjs';

const admin = await adminClient();
const adminToken = admin.authData.accessToken;

test('a guest sees Presence Disconnect after the backend ends the conversation', async () => {
  const d = await desk(adminToken);
  const dep = await native('POST', '/v1/messaging-deployments', { token: adminToken, body: { name: 'Web', queueId: d.queueId } });
  assert.equal(dep.status, 201);
  const ws = new WebSocket(`${BASE.replace('http://', 'ws://')}/v1?deploymentId=${dep.body.id}`);
  const next = frames(ws);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const token = randomUUID();
  try {
    ws.send(JSON.stringify({ action: 'configureSession', deploymentId: dep.body.id, token }));
    assert.equal((await next((f) => f.class === 'SessionResponse')).body.newSession, true);
    ws.send(JSON.stringify({ action: 'onMessage', token, message: { type: 'Text', text: 'hello' } }));
    assert.equal((await next((f) => f.class === 'StructuredMessage')).body.direction, 'Inbound');
    const conv = (await new gc.ConversationsApi(d.agent.api).getConversationsMessages()).entities[0];
    await new gc.ConversationsApi(admin).postConversationDisconnect(conv.id);
    const end = await next((f) => f.body?.type === 'Event');
    assert.deepEqual(end.body.events, [{ eventType: 'Presence', presence: { type: 'Disconnect' } }]);
  } finally {
    ws.close();
  }
});
