// Notifications through the JS SDK and the `ws` package: channels, subscriptions, the socket's frames.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { adminClient, desk, frames, gc, optest, refusal } from './harness.mjs';

const admin = await adminClient();
const adminToken = admin.authData.accessToken;

optest(['post_notifications_channels', 'get_notifications_channels', 'head_notifications_channel', 'post_notifications_channel_subscriptions',
  'put_notifications_channel_subscriptions', 'get_notifications_channel_subscriptions', 'delete_notifications_channel_subscriptions'],
'an agent follows its conversations on the notification socket', async () => {
  const d = await desk(adminToken, 'mandatory');
  const notif = new gc.NotificationsApi(d.agent.api);
  const ch = await notif.postNotificationsChannels();
  assert.ok((await notif.getNotificationsChannels()).entities.some((c) => c.id === ch.id));
  await notif.headNotificationsChannel(ch.id);
  const topic = `v2.users.${d.agent.id}.conversations`;
  const put = await notif.putNotificationsChannelSubscriptions(ch.id, [{ id: topic }]);
  assert.equal(put.entities[0].state, 'Permitted');
  const rejected = await refusal(notif.postNotificationsChannelSubscriptions(ch.id, [{ id: 'v2.users.someone-else.conversations' }]));
  assert.equal(rejected.status, 400);
  assert.deepEqual((await notif.getNotificationsChannelSubscriptions(ch.id)).entities.map((t) => t.id), [topic]);

  const ws = new WebSocket(ch.connectUri);
  const next = frames(ws);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  try {
    const { cid } = await d.inbound('message');
    const frame = await next((f) => f.topicName === topic);
    assert.equal(frame.eventBody.id, cid);
    assert.equal(frame.version, '2');
    ws.send(JSON.stringify({ message: 'ping' }));
    assert.equal((await next((f) => f.eventBody?.message === 'pong')).topicName, 'channel.metadata');
    await next((f) => f.eventBody?.message === 'WebSocket Heartbeat');
  } finally {
    ws.close();
  }
  await notif.deleteNotificationsChannelSubscriptions(ch.id);
  assert.deepEqual((await notif.getNotificationsChannelSubscriptions(ch.id)).entities, []);
});
