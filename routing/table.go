package routing

import (
	"fmt"
	"sort"
	"time"

	"github.com/trunkline/trunkline/config"
)

// Table is a compiled, immutable routing configuration: regexes compiled once,
// numbers in a map, criteria indexed by the literal prefix of their patterns.
// It is safe for concurrent use.
type Table struct {
	cfg       *config.Config
	trunks    map[string]*config.SIPTrunk
	numbers   map[string]*config.NumberAction
	routes    []route
	routeByID map[string]int

	// Criteria of ENABLED routes, each indexed under its most selective key:
	// the literal prefix of `to`, else of `from`, else of `username`, else its
	// source trunk, else nothing (always a candidate).
	byTo, byFrom, byUsername trie
	byTrunk                  map[string][]*criterion
	always                   []*criterion
}

// route is a compiled route: its destinations in hunt order (priority
// ascending, list order within a priority) with the bounds of each priority
// group.
type route struct {
	id      string
	cfg     *config.Route
	enabled bool
	dests   []dest // in priority order
	groups  []int  // dests[groups[i]:groups[i+1]] share a priority
	slots   int    // the most attempts the route can yield
	hasPrio bool   // the route sets priorities
}

// dest is a compiled destination.
type dest struct {
	index          int
	cfg            *config.Destination
	kind           string // attempt type
	priority       int
	weight         int
	connectTimeout int
	trunks         []string // SIP: its trunk; PHONE: the via trunks
	windows        []window
}

// Compile builds a Table from a validated configuration (config.Parse's
// result, defaults applied). The Table keeps pointers into cfg: cfg must not
// change afterwards.
func Compile(cfg *config.Config) (*Table, error) {
	t := &Table{
		cfg:       cfg,
		trunks:    make(map[string]*config.SIPTrunk, len(cfg.SIPTrunks)),
		numbers:   make(map[string]*config.NumberAction, len(cfg.Numbers)),
		routes:    make([]route, len(cfg.Routes)),
		routeByID: make(map[string]int, len(cfg.Routes)),
		byTrunk:   map[string][]*criterion{},
	}
	for i := range cfg.SIPTrunks {
		t.trunks[cfg.SIPTrunks[i].ID] = &cfg.SIPTrunks[i]
	}
	for i := range cfg.Numbers {
		t.numbers[cfg.Numbers[i].Number] = &cfg.Numbers[i].Action
	}
	c := compiler{patterns: patterns{}, zones: map[string]*time.Location{}}
	for i := range cfg.Routes {
		r := &cfg.Routes[i]
		cr, err := c.route(r)
		if err != nil {
			return nil, fmt.Errorf("routes[%d]: %w", i, err)
		}
		t.routes[i] = cr
		t.routeByID[r.ID] = i
		if !cr.enabled {
			continue
		}
		for j := range r.Criteria {
			crit, err := compileCriterion(c.patterns, i, &r.Criteria[j])
			if err != nil {
				return nil, fmt.Errorf("routes[%d].criteria[%d]: %w", i, j, err)
			}
			t.index(crit)
		}
	}
	return t, nil
}

// index files c under its most selective key. Criteria are indexed in route
// order, so every list stays sorted by route.
func (t *Table) index(c *criterion) {
	switch {
	case c.to.prefix != "":
		t.byTo.insert(c.to.prefix, c)
	case c.from.prefix != "":
		t.byFrom.insert(c.from.prefix, c)
	case c.username.prefix != "":
		t.byUsername.insert(c.username.prefix, c)
	case c.trunk != "":
		t.byTrunk[c.trunk] = append(t.byTrunk[c.trunk], c)
	default:
		t.always = append(t.always, c)
	}
}

// compiler holds what compiled pieces share: regexps by text, zones by name.
type compiler struct {
	patterns patterns
	zones    map[string]*time.Location
}

func (c *compiler) route(r *config.Route) (route, error) {
	cr := route{id: r.ID, cfg: r, enabled: r.Status != config.Disabled}
	for i := range r.Destinations {
		d := &r.Destinations[i]
		cd, err := c.dest(i, d)
		if err != nil {
			return route{}, fmt.Errorf("destinations[%d]: %w", i, err)
		}
		if d.Priority != nil {
			cr.hasPrio = true
		}
		cr.slots += max(1, len(cd.trunks))
		cr.dests = append(cr.dests, cd)
	}
	if cr.hasPrio {
		sort.SliceStable(cr.dests, func(a, b int) bool { return cr.dests[a].priority < cr.dests[b].priority })
		for i := range cr.dests {
			if i == 0 || cr.dests[i].priority != cr.dests[i-1].priority {
				cr.groups = append(cr.groups, i)
			}
		}
	} else {
		// No priorities: list order, each destination a group of its own.
		for i := range cr.dests {
			cr.groups = append(cr.groups, i)
		}
	}
	cr.groups = append(cr.groups, len(cr.dests))
	return cr, nil
}

func (c *compiler) dest(index int, d *config.Destination) (dest, error) {
	cd := dest{
		index:          index,
		cfg:            d,
		weight:         d.WeightOr(),
		connectTimeout: d.ConnectTimeoutOr(),
	}
	if d.Priority != nil {
		cd.priority = *d.Priority
	}
	switch d.Type {
	case config.DestinationURL:
		cd.kind = AttemptURL
	case config.DestinationApplication:
		cd.kind = AttemptApplication
		if d.Value != nil && d.Value.Timeout > 0 {
			cd.connectTimeout = d.Value.Timeout
		}
	default:
		if d.Value == nil {
			return dest{}, fmt.Errorf("value: missing")
		}
		switch d.Value.Type {
		case config.EndpointPhone:
			cd.kind = AttemptPhone
			cd.trunks = d.Value.ViaSIPTrunkIDs
		default:
			cd.kind = AttemptSIP
			cd.trunks = []string{d.Value.SIPTrunkID}
		}
	}
	for i := range d.AllowedTimeWindows {
		w, err := c.window(&d.AllowedTimeWindows[i])
		if err != nil {
			return dest{}, fmt.Errorf("allowedTimeWindows[%d]: %w", i, err)
		}
		cd.windows = append(cd.windows, w)
	}
	return cd, nil
}

// Config returns the configuration the table was compiled from.
func (t *Table) Config() *config.Config { return t.cfg }

// Trunk returns the configured trunk with this id, or nil.
func (t *Table) Trunk(id string) *config.SIPTrunk { return t.trunks[id] }

// Route returns the configured route with this id, or nil.
func (t *Table) Route(id string) *config.Route {
	if i, ok := t.routeByID[id]; ok {
		return t.routes[i].cfg
	}
	return nil
}
