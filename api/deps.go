package api

import (
	"context"
	"io"

	"github.com/trunkline/trunkline/config"
)

// Deps are what the API reads. Config, Ready and Metrics are required;
// Trunks, Cluster and Store may be nil (see their types).
type Deps struct {
	Config  ConfigSource
	Ready   ReadyChecker
	Metrics MetricsWriter
	Trunks  TrunkMonitor
	Cluster ClusterMonitor
	// Store holds the replicated resources and takes the management API's
	// writes. Without one, the resources are read from Config and every
	// write answers 503: the node is read-only.
	Store ConfigStore
	// Members changes the cluster's membership (POST and DELETE
	// /cluster/1/members); without it, those answer 503.
	Members ClusterAdmin
	// Scripts compiles a Lua script before it is stored; without it a
	// script is stored unchecked.
	Scripts ScriptChecker
	// KV is the replicated key/value store of tl.kv_*; without it /kv/1
	// answers 503.
	KV KVStore
}

// ConfigStore is the replicated configuration (package cluster implements
// it). Config returns the configuration the store has committed and applied
// on this node: management reads are served from it, locally, leader or
// not. Apply submits one change and returns the configuration it produced
// once committed. Its errors classify themselves (see errorStatus):
// config.ErrExists and config.ErrNotFound by identity, a *config.Error for
// a change that would leave the configuration invalid, an error with
// InUse() naming the referencing path for a delete of something still
// used, one implementing NotLeader on a follower and one implementing
// NoQuorum when no quorum commits it.
type ConfigStore interface {
	Config() *config.Config
	Apply(ctx context.Context, ch config.Change) (*config.Config, error)
}

// NotLeader is implemented by the error ConfigStore.Apply returns on a node
// that cannot commit because another node leads. LeaderAPI is the leader's
// API address, host:port (its cluster.peers api entry), or "" when no
// leader is known. The API then forwards the whole HTTP request to
// http://<LeaderAPI> and relays the leader's answer.
type NotLeader interface {
	LeaderAPI() string
}

// NoQuorum is implemented by the error ConfigStore.Apply returns when the
// change cannot be committed because too few nodes answer (a partitioned
// minority, a cluster still electing). NoQuorum returning true makes the
// API answer 503.
type NoQuorum interface {
	NoQuorum() bool
}

// ConfigSource returns the configuration in force. The API reads it and
// never modifies it.
type ConfigSource interface {
	Config() *config.Config
}

// ReadyChecker reports whether the node serves: SIP listeners up, a leader
// known, the configuration applied; false while draining.
type ReadyChecker interface {
	Ready() bool
}

// ReadyFunc adapts a function to ReadyChecker.
type ReadyFunc func() bool

// Ready calls f.
func (f ReadyFunc) Ready() bool { return f() }

// MetricsWriter writes metrics in the Prometheus text format
// (*metrics.Set of VictoriaMetrics/metrics is one).
type MetricsWriter interface {
	WritePrometheus(w io.Writer)
}

// MetricsFunc adapts a function to MetricsWriter.
type MetricsFunc func(w io.Writer)

// WritePrometheus calls f.
func (f MetricsFunc) WritePrometheus(w io.Writer) { f(w) }

// TrunkMonitor reports the live state of a configured trunk: everything in
// TrunkStatus but AdminStatus, which the API takes from the configuration.
// Without a monitor, a trunk reports no call, nothing polled (UNKNOWN) and
// no registration.
type TrunkMonitor interface {
	TrunkStatus(trunk *config.SIPTrunk) TrunkStatus
}

// ClusterMonitor reports the node's view of the cluster. Without one, the
// node reports itself as the leader of a single-node cluster.
type ClusterMonitor interface {
	ClusterStatus() ClusterStatus
}

// ScriptChecker compiles a Lua script without loading it; the error names
// the Lua line.
type ScriptChecker interface {
	CheckScript(id, source string) error
}
