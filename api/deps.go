package api

import (
	"io"

	"github.com/trunkline/trunkline/config"
)

// Deps are what the API reads. Config, Ready and Metrics are required;
// Trunks and Cluster may be nil (see their types).
type Deps struct {
	Config  ConfigSource
	Ready   ReadyChecker
	Metrics MetricsWriter
	Trunks  TrunkMonitor
	Cluster ClusterMonitor
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
