package routing

import (
	"time"

	"github.com/trunkline/trunkline/config"
)

// Table is a compiled, immutable routing configuration: regexes compiled once,
// numbers and criteria indexed. It is safe for concurrent use.
type Table struct {
	cfg *config.Config
}

// Compile builds a Table from a validated configuration.
func Compile(cfg *config.Config) (*Table, error) {
	return &Table{cfg: cfg}, nil
}

// Decide returns what happens to the call req at the instant at.
func (t *Table) Decide(req *Request, at time.Time, health Health, rnd Rand) Decision {
	return Decision{Action: config.ActionForwardToCallRouting, Attempts: []Attempt{}, Skipped: []Skip{}}
}

// Trunk returns the configured trunk with this id, or nil.
func (t *Table) Trunk(id string) *config.SIPTrunk {
	for i := range t.cfg.SIPTrunks {
		if t.cfg.SIPTrunks[i].ID == id {
			return &t.cfg.SIPTrunks[i]
		}
	}
	return nil
}
