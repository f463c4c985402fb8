package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

// After every node restarts, a node that says it caught up serves the
// stored configuration, not the empty one it starts with.
func TestCaughtUpAfterRestart(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	l := c.leader(10 * time.Second)
	ctx := context.Background()
	file := &config.Config{SIPTrunks: []config.SIPTrunk{{ID: "f1", DestinationHosts: []string{"a.example"}}}}
	if _, err := c.nodes[l].Seed(ctx, file, false); err != nil {
		t.Fatal(err)
	}
	mustApply(t, c.nodes[l], trunk("extra"))
	c.stopAll()
	for i := range c.nodes {
		c.start(i)
	}
	for i, n := range c.nodes {
		eventually(t, 10*time.Second, "caught up", n.CaughtUp)
		if got := trunkIDs(n.Config()); got == "" {
			t.Errorf("%s caught up (status %+v) with no trunk", c.ids[i], n.Status())
		}
	}
}
