package routing

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

func intp(v int) *int { return &v }

// bigConfig builds a table of 10,000 routes and 100,000 numbers: route i
// matches called numbers starting with 1 and its four digits, from any caller
// or from callers of one prefix, or a tenant header; the last route catches
// everything else. Numbers point at routes by id or leave it to criteria.
func bigConfig() *config.Config {
	cfg := &config.Config{}
	for i := range 20 {
		cfg.SIPTrunks = append(cfg.SIPTrunks, config.SIPTrunk{
			ID: fmt.Sprintf("trunk-%d", i), DestinationHosts: []string{fmt.Sprintf("127.0.0.%d:5060", i+1)},
		})
	}
	cfg.SIPTrunks[3].AdminStatus = config.Disabled
	const routes = 10000
	for i := range routes {
		r := config.Route{ID: fmt.Sprintf("route-%d", i)}
		switch i % 4 {
		case 0:
			r.Criteria = []config.Criterion{{To: fmt.Sprintf("1%04d(.+)", i)}}
		case 1:
			r.Criteria = []config.Criterion{{To: fmt.Sprintf("1%04d\\d{6}", i),
				Value: &config.CriterionValue{Type: config.CriterionPhone, From: fmt.Sprintf("%d(.+)", 30+i%60)}}}
		case 2:
			r.Criteria = []config.Criterion{
				{To: fmt.Sprintf("1%04d(.+)", i), Value: &config.CriterionValue{Type: config.CriterionSIP,
					SIPTrunkID: "trunk-1", Headers: []config.HeaderMatch{{HeaderName: "X-Tenant", HeaderValue: "acme-.*"}}}},
				{To: fmt.Sprintf("1%04d99(.+)", i)},
			}
		case 3:
			r.Criteria = []config.Criterion{{To: fmt.Sprintf("1%04d", i)}, {To: fmt.Sprintf("1%04d(0|1|2)(.*)", i)}}
		}
		if i == routes-1 {
			r.Criteria = []config.Criterion{{To: ".*"}}
		}
		for k := range 4 {
			d := config.Destination{
				Type:     config.DestinationEndpoint,
				Priority: intp(1 + k/2),
				Weight:   intp(10 + 10*k),
				Value:    &config.EndpointValue{Type: config.EndpointSIP, SIPTrunkID: fmt.Sprintf("trunk-%d", (i+k)%20)},
			}
			if k == 3 {
				d.AllowedTimeWindows = []config.TimeWindow{{Days: []string{"MONDAY", "TUESDAY"},
					From: &config.TimeOfDay{Hour: 8}, To: &config.TimeOfDay{Hour: 18}, Timezone: "Europe/London"}}
			}
			r.Destinations = append(r.Destinations, d)
		}
		cfg.Routes = append(cfg.Routes, r)
	}
	for i := range 100000 {
		n := config.Number{Number: fmt.Sprintf("2%011d", i), Action: config.NumberAction{Type: config.ActionForwardToCallRouting}}
		if i%10 != 0 {
			n.Action.RouteID = fmt.Sprintf("route-%d", i%routes)
		}
		cfg.Numbers = append(cfg.Numbers, n)
	}
	return cfg
}

func BenchmarkCompile(b *testing.B) {
	cfg := bigConfig()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecide measures one routing decision against 10,000 routes and
// 100,000 numbers.
func BenchmarkDecide(b *testing.B) {
	cfg := bigConfig()
	if err := cfg.Validate("bench"); err != nil {
		b.Fatal(err)
	}
	cfg.ApplyDefaults()
	tbl, err := Compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	health := down{"trunk-7": true}
	headers := []Header{{Name: "Via", Value: "SIP/2.0/UDP 127.0.0.1"}, {Name: "x-tenant", Value: "acme-eu"}}
	cases := []struct {
		name  string
		req   Request
		route string
	}{
		{"number-routeId", Request{From: "33123456", To: "200000012345"}, "route-2345"},
		{"number-criteria", Request{From: "33123456", To: "200000010000", Username: "200000010000"}, "route-9999"},
		{"prefix-regex", Request{From: "33123456", To: "142361234567"}, "route-4236"},
		{"prefix-from", Request{From: "6712345", To: "14237123456"}, "route-4237"},
		{"prefix-headers", Request{From: "33", To: "142381234567", SIPTrunkID: "trunk-1", Headers: headers}, "route-4238"},
		{"second-criterion", Request{From: "33", To: "14238991234", SIPTrunkID: "trunk-2", Headers: headers}, "route-4238"},
		{"literal", Request{From: "33", To: "14239"}, "route-4239"},
		{"catch-all", Request{From: "33", To: "9999999"}, "route-9999"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 2))
			if d := tbl.Decide(&c.req, at, health, rnd); routeOf(d) != c.route || len(d.Attempts) == 0 {
				b.Fatalf("route %q, want %q; %+v", routeOf(d), c.route, d)
			}
			b.ReportAllocs()
			for b.Loop() {
				tbl.Decide(&c.req, at, health, rnd)
			}
		})
	}
}
