package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/routing"
)

const simulateSynopsis = `trunkline route simulate --config FILE --from N --to N [--trunk ID] [--username U]
                           [--header K=V]... [--at RFC3339] [--down TRUNK]... [--seed N] [--json]`

// runSimulate prints, without sending SIP, what would happen to one call
// (DESIGN §2 `route simulate`).
func runSimulate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("route simulate", simulateSynopsis, stderr)
	configPath := fs.String("config", "", "YAML configuration `file` (required)")
	from := fs.String("from", "", "calling `number` (required; a leading + is stripped)")
	to := fs.String("to", "", "called `number` (required; a leading + is stripped)")
	trunkID := fs.String("trunk", "", "`id` of the trunk the call comes in on; its numberFormat applies")
	username := fs.String("username", "", "R-URI `user` (default: --to as received)")
	var headers headerList
	fs.Var(&headers, "header", "SIP header `K=V` of the inbound INVITE (repeatable)")
	at := fs.String("at", "", "instant of the call, `RFC3339` (default: now)")
	var down stringList
	fs.Var(&down, "down", "`trunk` id to treat as out of service (repeatable)")
	var seed optionalSeed
	fs.Var(&seed, "seed", "`N` fixes the weighted order (default: fresh random order on every run)")
	asJSON := fs.Bool("json", false, "print the decision as JSON")
	if !parseFlags(fs, args) {
		return exitUsage
	}

	fail := func(msg string) int {
		fmt.Fprintf(stderr, "trunkline route simulate: %s\n\n", msg)
		fs.Usage()
		return exitUsage
	}
	switch {
	case fs.NArg() != 0:
		return fail(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case *configPath == "":
		return fail("--config is required")
	case *from == "":
		return fail("--from is required")
	case *to == "":
		return fail("--to is required")
	}
	when := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fail(fmt.Sprintf("--at %q is not an RFC 3339 time such as 2026-11-23T10:00:00Z", *at))
		}
		when = t
	}

	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, strings.TrimRight(err.Error(), "\n"))
		return exitUsage
	}
	table, err := routing.Compile(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *configPath, err)
		return exitUsage
	}

	req := &routing.Request{
		From:     strings.TrimPrefix(*from, "+"),
		To:       strings.TrimPrefix(*to, "+"),
		Username: *username,
		Headers:  headers,
	}
	if *trunkID != "" {
		trunk := table.Trunk(*trunkID)
		if trunk == nil {
			fmt.Fprintf(stderr, "trunkline route simulate: --trunk %q: no such trunk in %s\n", *trunkID, *configPath)
			return exitUsage
		}
		req.SIPTrunkID = trunk.ID
		req.From = routing.Normalize(trunk.NumberFormat, trunk.CountryCode, *from)
		req.To = routing.Normalize(trunk.NumberFormat, trunk.CountryCode, *to)
	}
	if req.Username == "" {
		// The R-URI user as received: --to before the trunk's number format.
		req.Username = strings.TrimPrefix(*to, "+")
	}

	health := downTrunks{}
	for _, id := range down {
		if table.Trunk(id) == nil {
			fmt.Fprintf(stderr, "trunkline route simulate: --down %q: no such trunk in %s\n", id, *configPath)
			return exitUsage
		}
		health[id] = true
	}

	var rnd *rand.Rand
	if seed.set {
		rnd = rand.New(rand.NewPCG(seed.n, seed.n))
	} else {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}

	d := table.Decide(req, when, health, rnd)
	if d.Attempts == nil {
		d.Attempts = []routing.Attempt{}
	}
	if d.Skipped == nil {
		d.Skipped = []routing.Skip{}
	}

	if *asJSON {
		err = writeJSON(stdout, d)
	} else {
		err = writeReport(stdout, d)
	}
	if err != nil {
		fmt.Fprintf(stderr, "trunkline route simulate: %v\n", err)
		return exitFail
	}
	return exitOK
}

// writeJSON writes the decision as the `route simulate --json` document,
// indented with two spaces.
func writeJSON(w io.Writer, d routing.Decision) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeReport writes the decision for a human:
//
//	action   FORWARD_TO_CALL_ROUTING
//	route    main
//	attempts
//	  1.  #0  SIP    pbx-a      username 1000       priority 1  weight 70  connectTimeout 15s
//	  2.  #2  PHONE  carrier-a  phone 447700900123  priority 2  weight 1   connectTimeout 60s
//	skipped
//	  #1  -          OUTSIDE_TIME_WINDOW
//	  #2  carrier-b  TRUNK_DOWN
//
// Attempts are numbered in hunt order; #N is the destination's index in the
// route. FORWARD_TO_SUBSCRIPTION names its application after the action. A
// cell that does not apply (the trunk of a URL attempt, the priority of a route
// that sets none) is "-".
func writeReport(w io.Writer, d routing.Decision) error {
	var b strings.Builder
	route := "(none)"
	if d.Route != nil {
		route = *d.Route
	}
	action := d.Action
	if d.CallsConfigurationID != "" {
		action += " (callsConfigurationId " + d.CallsConfigurationID + ")"
	}
	fmt.Fprintf(&b, "%-8s %s\n", "action", action)
	fmt.Fprintf(&b, "%-8s %s\n", "route", route)

	if len(d.Attempts) == 0 {
		fmt.Fprintf(&b, "%-8s %s\n", "attempts", "(none)")
	} else {
		b.WriteString("attempts\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for i, a := range d.Attempts {
			priority := "-"
			if a.Priority != 0 {
				priority = strconv.Itoa(a.Priority)
			}
			fmt.Fprintf(tw, "  %d.\t#%d\t%s\t%s\t%s\tpriority %s\tweight %d\tconnectTimeout %ds\n",
				i+1, a.Index, a.Type, orDash(a.SIPTrunkID), attemptTarget(a), priority, a.Weight, a.ConnectTimeout)
		}
		tw.Flush()
	}

	if len(d.Skipped) == 0 {
		fmt.Fprintf(&b, "%-8s %s\n", "skipped", "(none)")
	} else {
		b.WriteString("skipped\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, s := range d.Skipped {
			fmt.Fprintf(tw, "  #%d\t%s\t%s\n", s.Index, orDash(s.SIPTrunkID), s.Reason)
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// attemptTarget is what an attempt calls, labelled by kind.
func attemptTarget(a routing.Attempt) string {
	switch {
	case a.PhoneNumber != "":
		return "phone " + a.PhoneNumber
	case a.URL != "":
		return "url " + a.URL
	case a.ApplicationID != "":
		return "application " + a.ApplicationID
	case a.Username != "":
		return "username " + a.Username
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// downTrunks is the set of trunks --down marks out of service.
type downTrunks map[string]bool

func (d downTrunks) TrunkDown(id string) bool { return d[id] }

var _ routing.Health = downTrunks(nil)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// headerList is the repeatable --header K=V flag.
type headerList []routing.Header

func (l *headerList) String() string {
	parts := make([]string, len(*l))
	for i, h := range *l {
		parts[i] = h.Name + "=" + h.Value
	}
	return strings.Join(parts, ",")
}

func (l *headerList) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return errors.New("want K=V, such as X-Tenant=acme-1")
	}
	*l = append(*l, routing.Header{Name: name, Value: value})
	return nil
}

// optionalSeed is the --seed flag: an unsigned number, and whether it was given.
type optionalSeed struct {
	n   uint64
	set bool
}

func (s *optionalSeed) String() string {
	if s == nil || !s.set {
		return ""
	}
	return strconv.FormatUint(s.n, 10)
}

func (s *optionalSeed) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return errors.New("want a non-negative integer")
	}
	s.n, s.set = n, true
	return nil
}
