"""Analytics through the SDK: a report reads the wrap-up code in a details query right after close, the
details of one conversation, and aggregates that agree with the native API on the same data."""
import datetime

import pytest
import PureCloudPlatformClientV2 as gc

from conftest import assert_current_enums, model, native


def wide_interval():
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return f"{fmt(now - datetime.timedelta(days=1))}/{fmt(now + datetime.timedelta(days=2))}"


def handled_call(d, code, notes="done"):
    cid, pid, _ = d.inbound("voice")
    api = gc.ConversationsApi(d.agent)
    api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="connected"))
    api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="disconnected",
                                                       wrapup=model(gc.WrapupInput, code=code, notes=notes)))
    return cid, pid


def segment_filter(dimension, *values):
    preds = [model(gc.SegmentDetailQueryPredicate, type="dimension", dimension=dimension, operator="matches", value=v) for v in values]
    return model(gc.SegmentDetailQueryFilter, type="or", predicates=preds)


@pytest.mark.ops("post_analytics_conversations_details_query", "get_analytics_conversation_details")
def test_a_report_reads_the_wrapup_code_in_a_details_query_right_after_close(admin, desk):
    d = desk(policy="mandatory")
    cid, pid = handled_call(d, d.codes[1], notes="refund issued")
    analytics = gc.ConversationsApi(admin)
    query = model(gc.ConversationQuery, interval=wide_interval(), order="desc",
                  segment_filters=[segment_filter("wrapUpCode", d.codes[1])],
                  paging=model(gc.PagingSpec, page_size=25, page_number=1))
    found = analytics.post_analytics_conversations_details_query(query)
    assert found.total_hits == 1 and [c.conversation_id for c in found.conversations] == [cid]
    assert_current_enums(found)
    agent = next(p for p in found.conversations[0].participants if p.participant_id == pid)
    assert agent.purpose == "agent" and agent.user_id == d.agent_id
    wrapup = [s for s in agent.sessions[0].segments if s.segment_type == "wrapup"]
    assert [(s.wrap_up_code, s.wrap_up_note) for s in wrapup] == [(d.codes[1], "refund issued")]
    assert {m.name for m in agent.sessions[0].metrics} >= {"tTalk", "tHandle", "tAlert", "nConnected"}

    one = analytics.get_analytics_conversation_details(cid)
    assert one.conversation_id == cid and one.conversation_end is not None
    # Filters combine: the queue and the other code find nothing.
    none = analytics.post_analytics_conversations_details_query(model(
        gc.ConversationQuery, interval=wide_interval(),
        segment_filters=[segment_filter("queueId", d.queue_id), segment_filter("wrapUpCode", d.codes[0])]))
    assert none.total_hits == 0 and not none.conversations
    by_media = analytics.post_analytics_conversations_details_query(model(
        gc.ConversationQuery, interval=wide_interval(),
        segment_filters=[segment_filter("queueId", d.queue_id), segment_filter("mediaType", "voice")]))
    assert by_media.total_hits == 1


@pytest.mark.ops("post_analytics_conversations_details_query")
def test_details_pages_by_number(admin, desk):
    d = desk(policy="optional")
    ids = [handled_call(d, d.codes[0])[0] for _ in range(3)]
    analytics = gc.ConversationsApi(admin)
    seen = []
    for n in (1, 2):
        page = analytics.post_analytics_conversations_details_query(model(
            gc.ConversationQuery, interval=wide_interval(), segment_filters=[segment_filter("queueId", d.queue_id)],
            paging=model(gc.PagingSpec, page_size=2, page_number=n)))
        assert page.total_hits == 3
        seen += [c.conversation_id for c in page.conversations]
    assert sorted(seen) == sorted(ids)


@pytest.mark.ops("post_analytics_conversations_aggregates_query")
def test_aggregates_agree_with_the_native_api(admin, admin_token, desk):
    d = desk(policy="optional")
    for code in (d.codes[0], d.codes[0], d.codes[1]):
        handled_call(d, code)
    interval = wide_interval()
    filt = model(gc.ConversationAggregateQueryFilter, type="and", predicates=[
        model(gc.ConversationAggregateQueryPredicate, type="dimension", dimension="queueId", operator="matches", value=d.queue_id)])
    body = model(gc.ConversationAggregationQuery, interval=interval, group_by=["wrapUpCode"], filter=filt,
                 metrics=["tHandle", "tTalk", "nConnected", "nOffered"])
    got = gc.ConversationsApi(admin).post_analytics_conversations_aggregates_query(body)
    by_code = {r.group["wrapUpCode"]: {m.metric: m.stats for m in r.data[0].metrics} for r in got.results if "wrapUpCode" in r.group}
    assert set(by_code) == {d.codes[0], d.codes[1]}
    assert by_code[d.codes[0]]["nConnected"].count == 2 and by_code[d.codes[1]]["nConnected"].count == 1
    start, end = interval.split("/")
    status, nat = native("POST", "/v1/analytics/conversations/aggregates/query", admin_token, {
        "interval": interval, "granularity": "P1D", "groupBy": ["wrapupCodeId"], "metrics": ["tHandle"],
        "filters": {"queueIds": [d.queue_id]}})
    assert status == 200, nat
    native_sum = {r["group"]["wrapupCodeId"]: sum(b["metrics"]["tHandle"]["sum"] for b in r["data"]) for r in nat["results"]}
    assert {c: s["tHandle"].sum for c, s in by_code.items()} == native_sum
    # With a granularity the interval is cut into buckets.
    body.granularity = "PT1H"
    hourly = gc.ConversationsApi(admin).post_analytics_conversations_aggregates_query(body)
    assert all(len(r.data) >= 1 for r in hourly.results)
