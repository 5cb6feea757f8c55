// Users, routing status, wrap-up codes, queues and members through the JS SDK.
import assert from 'node:assert/strict';
import { adminClient, gc, makeAgent, optest, refusal, unique } from './harness.mjs';

const admin = await adminClient();
const adminToken = admin.authData.accessToken;
const routing = new gc.RoutingApi(admin);

optest(['get_users_me', 'get_user', 'get_user_routingstatus', 'put_user_routingstatus'], 'an agent reads itself and goes on queue', async () => {
  const agent = await makeAgent(adminToken);
  const users = new gc.UsersApi(agent.api);
  const me = await users.getUsersMe();
  assert.equal(me.id, agent.id);
  assert.equal((await new gc.UsersApi(admin).getUser(agent.id)).username, me.username);
  assert.equal((await users.getUserRoutingstatus(agent.id)).status, 'OFF_QUEUE');
  assert.equal((await users.putUserRoutingstatus(agent.id, { status: 'IDLE' })).status, 'IDLE');
  assert.equal((await users.getUserRoutingstatus(agent.id)).status, 'IDLE');
  const bad = await refusal(users.putUserRoutingstatus(agent.id, { status: 'BUSY' }));
  assert.equal(bad.status, 400);
  assert.equal(bad.code, 'bad.request');
});

optest(['post_routing_wrapupcodes', 'get_routing_wrapupcodes', 'get_routing_wrapupcode', 'put_routing_wrapupcode', 'delete_routing_wrapupcode'], 'wrap-up codes CRUD with paging', async () => {
  const prefix = unique('Js');
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await routing.postRoutingWrapupcodes({ name: `${prefix} ${i}` })).id);
  // JS sends comma lists unencoded: id=a,b
  const byId = await routing.getRoutingWrapupcodes({ id: ids.slice(0, 2) });
  assert.deepEqual(byId.entities.map((c) => c.id).sort(), ids.slice(0, 2).sort());
  const page = await routing.getRoutingWrapupcodes({ name: `${prefix}*`, pageSize: 2, pageNumber: 2 });
  assert.equal(page.total, 3);
  assert.deepEqual(page.entities.map((c) => c.name), [`${prefix} 2`]);
  assert.equal((await routing.putRoutingWrapupcode(ids[0], { name: `${prefix} renamed` })).name, `${prefix} renamed`);
  assert.equal((await routing.getRoutingWrapupcode(ids[0])).name, `${prefix} renamed`);
  await routing.deleteRoutingWrapupcode(ids[0]);
  const gone = await refusal(routing.getRoutingWrapupcode(ids[0]));
  assert.equal(gone.status, 404);
  assert.equal(gone.code, 'not.found');
});

optest(['post_routing_queues', 'get_routing_queues', 'get_routing_queue', 'put_routing_queue', 'delete_routing_queue',
  'post_routing_queue_wrapupcodes', 'get_routing_queue_wrapupcodes', 'delete_routing_queue_wrapupcode',
  'post_routing_queue_members', 'get_routing_queue_members', 'patch_routing_queue_members'], 'queues, their codes and members', async () => {
  const q = await routing.postRoutingQueues({ name: unique('JsQueue'), acwSettings: { wrapupPrompt: 'MANDATORY_FORCED_TIMEOUT', timeoutMs: 10000 } });
  assert.deepEqual(q.acwSettings, { wrapupPrompt: 'MANDATORY_FORCED_TIMEOUT', timeoutMs: 10000 });
  assert.ok((await routing.getRoutingQueues({ id: [q.id] })).entities.some((x) => x.id === q.id));
  const put = await routing.putRoutingQueue(q.id, { name: q.name, acwSettings: { wrapupPrompt: 'AGENT_REQUESTED' } });
  assert.equal(put.acwSettings.wrapupPrompt, 'AGENT_REQUESTED');
  assert.equal((await routing.getRoutingQueue(q.id)).acwSettings.wrapupPrompt, 'AGENT_REQUESTED');

  const code = await routing.postRoutingWrapupcodes({ name: unique('JsCode') });
  const added = await routing.postRoutingQueueWrapupcodes(q.id, [{ id: code.id }]);
  assert.ok(Array.isArray(added));
  assert.equal((await routing.getRoutingQueueWrapupcodes(q.id)).total, 1);
  await routing.deleteRoutingQueueWrapupcode(q.id, code.id);
  assert.equal((await routing.getRoutingQueueWrapupcodes(q.id)).total, 0);

  const agent = await makeAgent(adminToken);
  await routing.postRoutingQueueMembers(q.id, [{ id: agent.id }]);
  assert.deepEqual((await routing.getRoutingQueueMembers(q.id)).entities.map((m) => m.id), [agent.id]);
  const patched = await routing.patchRoutingQueueMembers(q.id, [{ id: agent.id, joined: false }]);
  assert.equal(patched.entities[0].joined, false);
  await routing.postRoutingQueueMembers(q.id, [{ id: agent.id }], { _delete: true }) // the JS SDK names the param _delete;
  assert.equal((await routing.getRoutingQueueMembers(q.id)).entities.length, 0);
  await routing.deleteRoutingQueue(q.id);
  assert.equal((await refusal(routing.getRoutingQueue(q.id))).status, 404);
});

optest([], 'an operation the facade does not implement answers 501 not.implemented', async () => {
  const e = await refusal(new gc.UsersApi(admin).getUsers());
  assert.equal(e.status, 501);
  assert.equal(e.code, 'not.implemented');
  assert.equal(e.messageParams.operationId, 'get_users');
});
