// Analytics through the JS SDK: the report story and aggregates.
import assert from 'node:assert/strict';
import { adminClient, desk, gc, optest } from './harness.mjs';

const admin = await adminClient();
const adminToken = admin.authData.accessToken;
const api = new gc.ConversationsApi(admin);
const iso = (d) => d.toISOString();
const interval = `${iso(new Date(Date.now() - 86400000))}/${iso(new Date(Date.now() + 2 * 86400000))}`;

async function handledCall(d, code) {
  const { cid, pid } = await d.inbound('voice');
  const agent = new gc.ConversationsApi(d.agent.api);
  await agent.patchConversationParticipant(cid, pid, { state: 'connected' });
  await agent.patchConversationParticipant(cid, pid, { state: 'disconnected', wrapup: { code } });
  return { cid, pid };
}

optest(['post_analytics_conversations_details_query', 'get_analytics_conversation_details', 'post_analytics_conversations_aggregates_query'],
  'a report reads wrapUpCode right after close, and aggregates group by it', async () => {
    const d = await desk(adminToken, 'mandatory');
    const { cid, pid } = await handledCall(d, d.codes[0]);
    const found = await api.postAnalyticsConversationsDetailsQuery({
      interval,
      segmentFilters: [{ type: 'or', predicates: [{ dimension: 'wrapUpCode', value: d.codes[0] }] }],
    });
    assert.equal(found.totalHits, 1);
    const agent = found.conversations[0].participants.find((p) => p.participantId === pid);
    assert.equal(agent.sessions[0].segments.find((s) => s.segmentType === 'wrapup').wrapUpCode, d.codes[0]);
    assert.equal((await api.getAnalyticsConversationDetails(cid)).conversationId, cid);
    const agg = await api.postAnalyticsConversationsAggregatesQuery({
      interval, groupBy: ['wrapUpCode'], metrics: ['nConnected', 'tHandle'],
      filter: { type: 'and', predicates: [{ dimension: 'queueId', value: d.queueId }] },
    });
    const row = agg.results.find((r) => r.group.wrapUpCode === d.codes[0]);
    assert.equal(row.data[0].metrics.find((m) => m.metric === 'nConnected').stats.count, 1);
  });
