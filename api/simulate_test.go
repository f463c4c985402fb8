package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trunkline/trunkline/routing"
)

func TestSimulate(t *testing.T) {
	h := storeAPI(newStore(t, storeBase))
	cases := []struct {
		name, body string
		code       int
		want       string // the decision's JSON, or a part of the error text
	}{
		{"criteria decide", `{"to": "+4420", "endpoint": {"type": "PHONE", "from": "331"}, "at": "2026-11-23T10:00:00Z"}`, 200,
			`{"action":"FORWARD_TO_CALL_ROUTING","route":"r1","attempts":[{"index":0,"type":"SIP","weight":1,"sipTrunkId":"t1","connectTimeout":60}],"skipped":[]}`},
		{"number decides", `{"to": "442", "endpoint": {"type": "PHONE", "from": "331"}}`, 200,
			`{"action":"FORWARD_TO_SUBSCRIPTION","route":null,"callsConfigurationId":"app","attempts":[],"skipped":[]}`},
		{"trunk down", `{"to": "4420", "endpoint": {"type": "SIP", "from": "331", "sipTrunkId": "t2", "headers": [{"headerName": "X-A", "headerValue": "b"}]}, "downSipTrunkIds": ["t1"], "seed": 7}`, 200,
			`{"action":"FORWARD_TO_CALL_ROUTING","route":"r1","attempts":[],"skipped":[{"index":0,"sipTrunkId":"t1","reason":"TRUNK_DOWN"}]}`},
		{"no route", `{"to": "1", "endpoint": {"type": "PHONE", "from": "2"}}`, 200,
			`{"action":"FORWARD_TO_CALL_ROUTING","route":null,"attempts":[],"skipped":[]}`},
		{"no to", `{"endpoint": {"type": "PHONE", "from": "2"}}`, 400, "to: required"},
		{"no from", `{"to": "1", "endpoint": {"type": "PHONE"}}`, 400, "endpoint.from"},
		{"bad type", `{"to": "1", "endpoint": {"type": "URL", "from": "2"}}`, 400, "endpoint.type"},
		{"bad at", `{"to": "1", "endpoint": {"type": "PHONE", "from": "2"}, "at": "today"}`, 400, "at:"},
		{"unknown trunk", `{"to": "1", "endpoint": {"type": "SIP", "from": "2", "sipTrunkId": "nope"}}`, 400, "endpoint.sipTrunkId"},
		{"unknown down trunk", `{"to": "1", "endpoint": {"type": "PHONE", "from": "2"}, "downSipTrunkIds": ["t1", "nope"]}`, 400, "downSipTrunkIds[1]"},
		{"unknown field", `{"to": "1", "endpoint": {"type": "PHONE", "from": "2", "colour": "red"}}`, 400, `"colour"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := send(h, "POST", "/callrouting/1/routes/simulate", mediaJSON, c.body)
			if c.code != 200 {
				wantError(t, rec, c.code, messageID(c.code))
				if !strings.Contains(errorText(rec), c.want) {
					t.Errorf("error %q does not mention %q", errorText(rec), c.want)
				}
				return
			}
			if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != c.want {
				t.Fatalf("got %d %s\nwant %s", rec.Code, rec.Body, c.want)
			}
			var d routing.Decision // the CLI's --json type
			if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
		})
	}
}
