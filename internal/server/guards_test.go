package server

import "testing"

// A subscriber in keyed mode sends its hello, 641 bytes, then a heartbeat
// of 42 bytes a second (CurveZMQ boxes each PING; measured with ss -ti):
// the publish rule must keep it for days, under its budget and holding
// nothing by the guard's estimate. (A rate of 16 B/s cut it off after 42
// minutes.)
func TestPublishRuleKeepsALongKeyedSubscriber(t *testing.T) {
	rule := rules(DefaultMemory)["publish"]
	for _, secs := range []uint64{0, 60, 2500, 86400 * 7} {
		sent := 641 + 42*secs
		if allowed := rule.Budget + rule.Rate*secs; sent > allowed {
			t.Errorf("after %d s a keyed subscriber has sent %d bytes, over the %d allowed", secs, sent, allowed)
		}
	}
}
