// Conversations through the JS SDK: the agent desktop and gateway stories and every conversation operation.
import assert from 'node:assert/strict';
import { adminClient, desk, gc, native, optest, refusal } from './harness.mjs';

const admin = await adminClient();
const adminToken = admin.authData.accessToken;
const gateway = new gc.ConversationsApi(admin);

optest(['get_conversations_calls', 'get_conversations_call', 'patch_conversations_call_participant', 'get_conversations_call_participant_wrapupcodes',
  'get_conversations_call_participant_wrapup', 'get_conversation', 'get_conversations'], 'agent desktop: wrap-up after the call ends', async () => {
  const d = await desk(adminToken, 'mandatory');
  const { cid, pid, comm } = await d.inbound('voice');
  const api = new gc.ConversationsApi(d.agent.api);
  assert.ok((await api.getConversationsCalls()).entities.some((c) => c.id === cid));
  const me = (await api.getConversationsCall(cid)).participants.find((p) => p.id === pid);
  assert.equal(me.wrapupPrompt, 'mandatory');
  await api.patchConversationsCallParticipant(cid, pid, { state: 'connected' });
  await api.patchConversationsCallParticipant(cid, pid, { state: 'disconnected' });
  const agent = (await api.getConversation(cid)).participants.find((p) => p.id === pid);
  assert.equal(agent.calls[0].id, comm);
  assert.equal(agent.calls[0].afterCallWork.state, 'pending');
  assert.ok((await api.getConversations()).entities.some((c) => c.id === cid));
  const codes = await api.getConversationsCallParticipantWrapupcodes(cid, pid);
  assert.deepEqual(codes.map((c) => c.id).sort(), [...d.codes].sort());
  await api.patchConversationsCallParticipant(cid, pid, { wrapup: { code: d.codes[0] } });
  assert.equal((await api.getConversationsCallParticipantWrapup(cid, pid)).code, d.codes[0]);
  assert.equal((await d.nativeConversation(cid)).state, 'closed');
});

optest(['patch_conversations_message_participant', 'post_conversations_message_communication_messages', 'patch_conversations_message_participant_communication',
  'post_conversations_message_participant_communication_wrapup', 'get_conversations_message_participant_communication_wrapup', 'post_conversation_disconnect',
  'get_conversations_messages', 'get_conversations_message', 'get_conversations_message_participant_wrapup', 'get_conversations_message_participant_wrapupcodes'],
'gateway: disconnects a message conversation and sets the disposition', async () => {
  const d = await desk(adminToken, 'mandatory');
  const { cid, pid, comm } = await d.inbound('message');
  const api = new gc.ConversationsApi(d.agent.api);
  await api.patchConversationsMessageParticipant(cid, pid, { body: { state: 'connected' } });
  const sent = await api.postConversationsMessageCommunicationMessages(cid, comm, { textBody: 'Hello' });
  assert.equal(sent.normalizedMessage.text, 'Hello');
  assert.ok((await api.getConversationsMessages()).entities.some((c) => c.id === cid));
  assert.equal((await api.getConversationsMessage(cid)).participants.find((p) => p.id === pid).state, 'connected');
  await gateway.patchConversationsMessageParticipantCommunication(cid, pid, comm, { state: 'disconnected' });
  assert.equal((await gateway.getConversationsMessageParticipantWrapupcodes(cid, pid)).length, 2);
  await gateway.postConversationsMessageParticipantCommunicationWrapup(cid, pid, comm, { body: { code: d.codes[1] } });
  assert.equal((await gateway.getConversationsMessageParticipantCommunicationWrapup(cid, pid, comm)).code, d.codes[1]);
  assert.equal((await gateway.getConversationsMessageParticipantWrapup(cid, pid)).code, d.codes[1]);
  await gateway.postConversationDisconnect(cid);
  assert.equal((await d.nativeConversation(cid)).state, 'closed');
});

optest(['patch_conversation_participant', 'get_conversation_participant_wrapupcodes', 'get_conversation_participant_wrapup'], 'a timed wrap-up expires on the manual clock', async () => {
  const d = await desk(adminToken, 'mandatoryTimeout', 30000);
  const { cid, pid } = await d.inbound('voice');
  const api = new gc.ConversationsApi(d.agent.api);
  await api.patchConversationParticipant(cid, pid, { state: 'connected' });
  await api.patchConversationParticipant(cid, pid, { state: 'disconnected' });
  assert.equal((await api.getConversationParticipantWrapupcodes(cid, pid)).length, 2);
  assert.equal((await native('POST', '/v1/admin/clock', { token: adminToken, body: { advanceMs: 30001 } })).status, 200);
  assert.equal((await api.getConversationParticipantWrapup(cid, pid)).code, 'ININ-WRAP-UP-TIMEOUT');
});

optest(['patch_conversation_participant_attributes', 'patch_conversations_call_participant_attributes', 'patch_conversations_message_participant_attributes'], 'participant attributes', async () => {
  const d = await desk(adminToken);
  const { cid, pid } = await d.inbound('voice');
  const api = new gc.ConversationsApi(d.agent.api);
  assert.deepEqual((await api.patchConversationsCallParticipantAttributes(cid, pid, { attributes: { crm: '42' } })).attributes, { crm: '42' });
  await api.patchConversationParticipantAttributes(cid, pid, { attributes: { tier: 'gold' } });
  assert.deepEqual((await api.getConversation(cid)).participants.find((p) => p.id === pid).attributes, { crm: '42', tier: 'gold' });
  const m = await desk(adminToken);
  const msg = await m.inbound('message');
  const got = await new gc.ConversationsApi(m.agent.api).patchConversationsMessageParticipantAttributes(msg.cid, msg.pid, { body: { attributes: { a: 'b' } } });
  assert.deepEqual(got.attributes, { a: 'b' });
});

optest(['post_conversation_participant_replace_queue', 'post_conversation_participant_replace_agent', 'post_conversations_call_participant_replace',
  'post_conversations_message_participant_replace'], 'blind transfers', async () => {
  for (const how of ['queue', 'agent', 'call', 'message']) {
    const d = await desk(adminToken);
    const other = await desk(adminToken);
    const { cid, pid } = await d.inbound(how === 'message' ? 'message' : 'voice');
    const api = new gc.ConversationsApi(d.agent.api);
    await api.patchConversationParticipant(cid, pid, { state: 'connected' });
    if (how === 'queue') await api.postConversationParticipantReplaceQueue(cid, pid, { queueId: other.queueId });
    if (how === 'agent') await api.postConversationParticipantReplaceAgent(cid, pid, { userId: other.agent.id });
    if (how === 'call') await api.postConversationsCallParticipantReplace(cid, pid, { queueId: other.queueId });
    if (how === 'message') await api.postConversationsMessageParticipantReplace(cid, pid, { userId: other.agent.id });
    const conv = await d.nativeConversation(cid);
    assert.equal(conv.participants.find((p) => p.id === pid).stateReason, 'transfer', how);
    assert.ok(conv.participants.some((p) => p.userId === other.agent.id && p.state === 'alerting'), how);
  }
});

optest(['post_conversations_calls', 'patch_conversations_call', 'delete_conversation', 'patch_conversations_message'], 'outbound calls and conversation teardown', async () => {
  const d = await desk(adminToken);
  const api = new gc.ConversationsApi(d.agent.api);
  const created = await api.postConversationsCalls({ phoneNumber: '+15550199', callFromQueueId: d.queueId });
  const customer = (await api.getConversationsCall(created.id)).participants.find((p) => p.purpose === 'customer');
  assert.equal(customer.state, 'contacting');
  assert.equal((await gateway.patchConversationsCall(created.id, { state: 'disconnected' })).id, created.id);
  const v = await (await desk(adminToken)).inbound('voice');
  await gateway.deleteConversation(v.cid);
  const m = await desk(adminToken);
  const msg = await m.inbound('message');
  await gateway.patchConversationsMessage(msg.cid, { state: 'disconnected' });
  assert.notEqual((await m.nativeConversation(msg.cid)).state, 'active');
  assert.equal((await refusal(gateway.getConversationsMessage(v.cid))).status, 404);
});

optest(['patch_conversations_call_participant_communication', 'post_conversations_call_participant_communication_wrapup',
  'get_conversations_call_participant_communication_wrapup', 'patch_conversations_aftercallwork_conversation_id_participant_communication'],
'per-communication wrap-up and agent-requested ACW', async () => {
  const d = await desk(adminToken, 'agentRequested', 60000);
  const { cid, pid, comm } = await d.inbound('voice');
  const api = new gc.ConversationsApi(d.agent.api);
  await api.patchConversationsCallParticipant(cid, pid, { state: 'connected' });
  const acw = await api.patchConversationsAftercallworkConversationIdParticipantCommunication(cid, pid, comm, { afterCallWorkRequired: true });
  assert.equal(acw.afterCallWorkRequired, true);
  await api.patchConversationsCallParticipantCommunication(cid, pid, comm, { state: 'disconnected' });
  await api.postConversationsCallParticipantCommunicationWrapup(cid, pid, comm, { body: { code: d.codes[0] } });
  assert.equal((await api.getConversationsCallParticipantCommunicationWrapup(cid, pid, comm)).code, d.codes[0]);
  const e = await refusal(api.getConversationsCallParticipantCommunicationWrapup(cid, pid, 'not-mine'));
  assert.equal(e.status, 404);
});
