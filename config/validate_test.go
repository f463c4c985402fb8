package config

import (
	"strings"
	"testing"
)

const sipDest = "{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1}}"

// routeWith is a routes section: route r1 with these destinations.
func routeWith(dests ...string) string {
	var b strings.Builder
	b.WriteString("routes:\n  - id: r1\n    criteria: [{to: \"44.*\"}]\n    destinations:\n")
	for _, d := range dests {
		b.WriteString("      - " + d + "\n")
	}
	return b.String()
}

// criterionWith is a routes section: route r1 with this one criterion.
func criterionWith(c string) string {
	return "routes:\n  - id: r1\n    criteria:\n      - " + c + "\n    destinations: [" + sipDest + "]\n"
}

// windowsWith is a routes section whose one destination has these windows.
func windowsWith(ws ...string) string {
	return routeWith("{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1}, allowedTimeWindows: [" + strings.Join(ws, ", ") + "]}")
}

// trunkWith is a sipTrunks section: t1 then this trunk, sipTrunks[1].
func trunkWith(t string) string {
	return "sipTrunks:\n  - {id: t1, destinationHosts: [sip.example.com]}\n  - " + t + "\n"
}

// numberWith is a numbers section: number 4420 with this action.
func numberWith(action string) string {
	return "numbers:\n  - {number: \"4420\", action: " + action + "}\n"
}

type ruleCase struct {
	name, doc, path, reason string
}

func runRules(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantOneProblem(t, withBase(tc.doc), tc.path, tc.reason)
		})
	}
}

func TestValidateIDs(t *testing.T) {
	runRules(t, []ruleCase{
		{"trunk id missing", trunkWith("{name: x}"), "sipTrunks[1].id", "required"},
		{"trunk id twice", trunkWith("{id: t1}"), "sipTrunks[1].id", `duplicate id "t1" (also sipTrunks[0].id)`},
		{"inbound username twice", "sipTrunks:\n" +
			"  - {id: t1, type: AUTHENTICATED, destinationHosts: [sip.example.com], inboundAuth: {username: u, password: p}}\n" +
			"  - {id: b, type: REGISTERED, inboundAuth: {username: u, password: q}}\n",
			"sipTrunks[1].inboundAuth.username", `duplicate username "u" (also sipTrunks[0].inboundAuth.username)`},
		{"negative source rate limit", "sip: {sourceRateLimit: -1}\n", "sip.sourceRateLimit", "-1 is negative (0 means no limit)"},
		{"trunk id with slash", trunkWith("{id: a/b}"), "sipTrunks[1].id", "may not contain '/'"},
		{"route id missing", "routes: [{criteria: [{to: '1'}], destinations: [" + sipDest + "]}]\n", "routes[0].id", "required"},
		{"route id twice", "routes:\n  - {id: r, criteria: [{to: '1'}], destinations: [" + sipDest + "]}\n  - {id: r, criteria: [{to: '2'}], destinations: [" + sipDest + "]}\n",
			"routes[1].id", `duplicate id "r" (also routes[0].id)`},
		{"calls configuration id twice", "callsConfigurations: [{id: app}, {id: app}]\n", "callsConfigurations[1].id", "duplicate id"},
		{"calls configuration id missing", "callsConfigurations: [{id: app}, {name: x}]\n", "callsConfigurations[1].id", "required"},
		{"script id twice", "scripts: [{id: s1, source: a}, {id: s1, file: b.lua}]\n", "scripts[1].id", "duplicate id"},
		{"script id missing", "scripts: [{id: s1, source: a}, {file: b.lua}]\n", "scripts[1].id", "required"},
		{"number twice", "numbers:\n  - {number: \"4420\", action: {type: NO_ACTION}}\n  - {number: \"4420\", action: {type: NO_ACTION}}\n",
			"numbers[1].number", `duplicate number "4420" (also numbers[0].number)`},
	})
}

func TestValidateReferences(t *testing.T) {
	runRules(t, []ruleCase{
		{"SIP destination trunk unknown", routeWith("{type: ENDPOINT, value: {type: SIP, sipTrunkId: nope}}"),
			"routes[0].destinations[0].value.sipTrunkId", `no sipTrunks entry has id "nope"`},
		{"SIP destination trunk inbound-only", routeWith("{type: ENDPOINT, value: {type: SIP, sipTrunkId: in}}"),
			"routes[0].destinations[0].value.sipTrunkId", "inbound-only trunk cannot be a destination"},
		{"PHONE via trunk unknown", routeWith("{type: ENDPOINT, value: {type: PHONE, phoneNumber: '44', viaSipTrunkIds: [t1, nope]}}"),
			"routes[0].destinations[0].value.viaSipTrunkIds[1]", `no sipTrunks entry has id "nope"`},
		{"PHONE via trunk inbound-only", routeWith("{type: ENDPOINT, value: {type: PHONE, phoneNumber: '44', viaSipTrunkIds: [in]}}"),
			"routes[0].destinations[0].value.viaSipTrunkIds[0]", "inbound-only"},
		{"PHONE via trunk twice", routeWith("{type: ENDPOINT, value: {type: PHONE, phoneNumber: '44', viaSipTrunkIds: [t1, t1]}}"),
			"routes[0].destinations[0].value.viaSipTrunkIds[1]", "listed twice"},
		{"application unknown", routeWith("{type: APPLICATION, value: {type: CALLS_APPLICATION, applicationId: nope}}"),
			"routes[0].destinations[0].value.applicationId", `no callsConfigurations entry has id "nope"`},
		{"criterion trunk unknown", criterionWith("{value: {type: SIP, sipTrunkId: nope}}"),
			"routes[0].criteria[0].value.sipTrunkId", `no sipTrunks entry has id "nope"`},
		{"script unknown", "routes: [{id: r1, scriptId: nope, criteria: [{to: '1'}], destinations: [" + sipDest + "]}]\n",
			"routes[0].scriptId", `no scripts entry has id "nope"`},
		{"number route unknown", numberWith("{type: FORWARD_TO_CALL_ROUTING, routeId: nope}"),
			"numbers[0].action.routeId", `no routes entry has id "nope"`},
		{"number application unknown", numberWith("{type: FORWARD_TO_SUBSCRIPTION, callsConfigurationId: nope}"),
			"numbers[0].action.callsConfigurationId", `no callsConfigurations entry has id "nope"`},
		{"number via trunk unknown", numberWith("{type: FORWARD_TO_PHONE, phoneNumber: '44', viaSipTrunkIds: [nope]}"),
			"numbers[0].action.viaSipTrunkIds[0]", `no sipTrunks entry has id "nope"`},
		{"number via trunk inbound-only", numberWith("{type: FORWARD_TO_PHONE, phoneNumber: '44', viaSipTrunkIds: [in]}"),
			"numbers[0].action.viaSipTrunkIds[0]", "inbound-only"},
	})
}

func TestValidateEnums(t *testing.T) {
	runRules(t, []ruleCase{
		{"trunk type", trunkWith("{id: x, type: static}"), "sipTrunks[1].type", `"static" is not one of STATIC, REGISTERED, AUTHENTICATED`},
		{"trunk adminStatus", trunkWith("{id: x, adminStatus: ON}"), "sipTrunks[1].adminStatus", `"ON" is not one of ENABLED, DISABLED`},
		{"route status", "routes: [{id: r1, status: OFF, criteria: [{to: '1'}], destinations: [" + sipDest + "]}]\n", "routes[0].status", `"OFF" is not one of ENABLED, DISABLED`},
		{"strategy", trunkWith("{id: x, strategy: RANDOM}"), "sipTrunks[1].strategy", "FAILOVER, ROUND_ROBIN"},
		{"transport", trunkWith("{id: x, transport: SCTP}"), "sipTrunks[1].transport", "UDP, TCP, TLS"},
		{"srtp", trunkWith("{id: x, srtp: MANDATORY}"), "sipTrunks[1].srtp", "DISABLED, OPTIONAL, REQUIRED"},
		{"dtmf", trunkWith("{id: x, dtmf: RFC4733}"), "sipTrunks[1].dtmf", "RFC2833, INBAND, INFO"},
		{"numberFormat", trunkWith("{id: x, numberFormat: NATIONAL}"), "sipTrunks[1].numberFormat", "E164, INTERNATIONAL, US_NATIONAL, UNCHANGED"},
		{"codec lower case", trunkWith("{id: x, codecs: [PCMU, pcma]}"), "sipTrunks[1].codecs[1]", `"pcma" is not one of PCMU, PCMA, G722, G729, OPUS`},
		{"codec twice", trunkWith("{id: x, codecs: [PCMU, PCMU]}"), "sipTrunks[1].codecs[1]", "listed twice"},
		{"destination type", routeWith("{type: SIP, value: {type: SIP, sipTrunkId: t1}}"), "routes[0].destinations[0].type", `"SIP" is not one of ENDPOINT, URL, APPLICATION`},
		{"destination type missing", routeWith("{value: {type: SIP, sipTrunkId: t1}}"), "routes[0].destinations[0].type", "required: one of ENDPOINT, URL, APPLICATION"},
		{"endpoint value type", routeWith("{type: ENDPOINT, value: {type: CALLS_APPLICATION, applicationId: app}}"),
			"routes[0].destinations[0].value.type", `"CALLS_APPLICATION" is not one of SIP, PHONE`},
		{"application value type", routeWith("{type: APPLICATION, value: {type: SIP, applicationId: app}}"),
			"routes[0].destinations[0].value.type", `"SIP" is not one of CALLS_APPLICATION`},
		{"criterion value type", criterionWith("{to: '1', value: {type: URL}}"), "routes[0].criteria[0].value.type", `"URL" is not one of PHONE, SIP`},
		{"criterion value type missing", criterionWith("{value: {from: '1'}}"), "routes[0].criteria[0].value.type", "required: one of PHONE, SIP"},
		{"number action type", numberWith("{type: FORWARD}"), "numbers[0].action.type", "FORWARD_TO_CALL_ROUTING, FORWARD_TO_SUBSCRIPTION, FORWARD_TO_PHONE, NO_ACTION"},
		{"number action type missing", numberWith("{routeId: r1}"), "numbers[0].action.type", "required"},
		{"day", windowsWith("{days: [MONDAY, MON]}"), "routes[0].destinations[0].allowedTimeWindows[0].days[1]", `"MON" is not one of MONDAY`},
		{"security type", routeWith("{type: URL, url: 'https://x.example', securityConfig: {type: BASIC, secretKey: k}}"),
			"routes[0].destinations[0].securityConfig.type", `"BASIC" is not one of HMAC`},
		{"security algorithm", routeWith("{type: URL, url: 'https://x.example', securityConfig: {type: HMAC, secretKey: k, algorithm: SHA_256}}"),
			"routes[0].destinations[0].securityConfig.algorithm", "HMAC_SHA_256, HMAC_SHA_1"},
		{"security secret", "callsConfigurations: [{id: app, webhook: {url: 'http://127.0.0.1/e', securityConfig: {type: HMAC, secretKey: ''}}}]\n",
			"callsConfigurations[0].webhook.securityConfig.secretKey", "required"},
		{"recording type", routeWith("{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1}, recording: {recordingType: VIDEO}}"),
			"routes[0].destinations[0].recording.recordingType", `"VIDEO" is not one of AUDIO`},
		{"event type", "callsConfigurations: [{id: app, events: [CALL_RECEIVED, CALL_EXPLODED]}]\n", "callsConfigurations[0].events[1]", `"CALL_EXPLODED" is not one of`},
		{"webhook url", "callsConfigurations: [{id: app, webhook: {url: 'ftp://x'}}]\n", "callsConfigurations[0].webhook.url", "not an http:// or https:// URL"},
	})
}

func TestValidateNumberActions(t *testing.T) {
	runRules(t, []ruleCase{
		{"subscription needs configuration", numberWith("{type: FORWARD_TO_SUBSCRIPTION}"), "numbers[0].action.callsConfigurationId", "required for FORWARD_TO_SUBSCRIPTION"},
		{"phone needs number", numberWith("{type: FORWARD_TO_PHONE, viaSipTrunkIds: [t1]}"), "numbers[0].action.phoneNumber", "required: 1..20 digits"},
		{"phone number digits", numberWith("{type: FORWARD_TO_PHONE, phoneNumber: '+447700900123', viaSipTrunkIds: [t1]}"),
			"numbers[0].action.phoneNumber", `"+447700900123" is not a number: want 1..20 digits (E.164 without '+')`},
		{"phone needs via", numberWith("{type: FORWARD_TO_PHONE, phoneNumber: '44'}"), "numbers[0].action.viaSipTrunkIds", "at least one"},
		{"no action with route", numberWith("{type: NO_ACTION, routeId: r1}"), "numbers[0].action.routeId", "not used by NO_ACTION"},
		{"routing with phone", numberWith("{type: FORWARD_TO_CALL_ROUTING, phoneNumber: '44'}"), "numbers[0].action.phoneNumber", "not used by FORWARD_TO_CALL_ROUTING"},
		{"number with plus", "numbers: [{number: '+4420', action: {type: NO_ACTION}}]\n", "numbers[0].number", "not a number"},
		{"number too long", "numbers: [{number: '123456789012345678901', action: {type: NO_ACTION}}]\n", "numbers[0].number", "has 21 digits, at most 20"},
		{"number missing", "numbers: [{action: {type: NO_ACTION}}]\n", "numbers[0].number", "required"},
	})
}

func TestValidateDestinations(t *testing.T) {
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = sipDest
	}
	const d = "routes[0].destinations"
	runRules(t, []ruleCase{
		{"more than 10", routeWith(eleven...), d, "11 destinations, at most 10"},
		{"none", "routes: [{id: r1, criteria: [{to: '1'}]}]\n", d, "required: a route needs 1..10 destinations"},
		{"priority 0", routeWith("{type: ENDPOINT, priority: 0, value: {type: SIP, sipTrunkId: t1}}"), d + "[0].priority", "0 is outside 1..100"},
		{"priority 101", routeWith("{type: ENDPOINT, priority: 101, value: {type: SIP, sipTrunkId: t1}}"), d + "[0].priority", "101 is outside 1..100"},
		{"priority on some", routeWith("{type: ENDPOINT, priority: 1, value: {type: SIP, sipTrunkId: t1}}", sipDest),
			d + "[1].priority", "missing: destinations[0] sets a priority"},
		{"weight 0", routeWith("{type: ENDPOINT, weight: 0, value: {type: SIP, sipTrunkId: t1}}"), d + "[0].weight", "0 is below 1"},
		{"connectTimeout 0", routeWith("{type: ENDPOINT, connectTimeout: 0, value: {type: SIP, sipTrunkId: t1}}"), d + "[0].connectTimeout", "0 is below 1"},
		{"endpoint needs value", routeWith("{type: ENDPOINT}"), d + "[0].value", "required for an ENDPOINT destination"},
		{"SIP needs trunk", routeWith("{type: ENDPOINT, value: {type: SIP, username: '100'}}"), d + "[0].value.sipTrunkId", "required"},
		{"SIP with phone number", routeWith("{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1, phoneNumber: '44'}}"), d + "[0].value.phoneNumber", "not used by a SIP endpoint"},
		{"PHONE needs number", routeWith("{type: ENDPOINT, value: {type: PHONE, viaSipTrunkIds: [t1]}}"), d + "[0].value.phoneNumber", "required"},
		{"PHONE number digits", routeWith("{type: ENDPOINT, value: {type: PHONE, phoneNumber: '44-77', viaSipTrunkIds: [t1]}}"), d + "[0].value.phoneNumber", `"44-77" is not a number`},
		{"PHONE needs via", routeWith("{type: ENDPOINT, value: {type: PHONE, phoneNumber: '44'}}"), d + "[0].value.viaSipTrunkIds", "at least one"},
		{"PHONE with trunk", routeWith("{type: ENDPOINT, value: {type: PHONE, phoneNumber: '44', viaSipTrunkIds: [t1], sipTrunkId: t1}}"), d + "[0].value.sipTrunkId", "not used by a PHONE endpoint"},
		{"URL needs url", routeWith("{type: URL}"), d + "[0].url", "required for a URL destination"},
		{"URL scheme", routeWith("{type: URL, url: 'ftp://x.example/r'}"), d + "[0].url", `"ftp://x.example/r" is not an http:// or https:// URL`},
		{"URL does not parse", routeWith("{type: URL, url: 'http://[::1'}"), d + "[0].url", "is not a URL"},
		{"URL without host", routeWith("{type: URL, url: 'http:///r'}"), d + "[0].url", "not an http:// or https:// URL"},
		{"URL with value", routeWith("{type: URL, url: 'http://x.example', value: {type: SIP, sipTrunkId: t1}}"), d + "[0].value", "not used by a URL destination"},
		{"application needs value", routeWith("{type: APPLICATION}"), d + "[0].value", "required for an APPLICATION destination"},
		{"application needs id", routeWith("{type: APPLICATION, value: {type: CALLS_APPLICATION}}"), d + "[0].value.applicationId", "required"},
		{"custom header name", routeWith("{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1, customHeaders: {'X Bad': v}}}"),
			d + `[0].value.customHeaders["X Bad"]`, `"X Bad" is not a header name`},
		{"custom header value", routeWith("{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1, customHeaders: {X-A: \"a\\r\\nB: c\"}}}"),
			d + "[0].value.customHeaders.X-A", "CR, LF or NUL"},
		{"advanceOn 200", "routes: [{id: r1, advanceOn: [503, 200], criteria: [{to: '1'}], destinations: [" + sipDest + "]}]\n", "routes[0].advanceOn[1]", "200 is outside 300..699"},
		{"advanceOn 700", "routes: [{id: r1, advanceOn: [700], criteria: [{to: '1'}], destinations: [" + sipDest + "]}]\n", "routes[0].advanceOn[0]", "700 is outside 300..699"},
	})
}

func TestValidateCriteria(t *testing.T) {
	const c = "routes[0].criteria[0]"
	runRules(t, []ruleCase{
		{"to regexp", criterionWith("{to: '44(.+'}"), c + ".to", "missing closing )"},
		{"from regexp", criterionWith("{value: {type: PHONE, from: '[0-9'}}"), c + ".value.from", "missing closing ]"},
		{"username regexp", criterionWith("{value: {type: SIP, username: '*1'}}"), c + ".value.username", "missing argument to repetition operator"},
		{"header value regexp", criterionWith("{value: {type: SIP, headers: [{headerName: X-T, headerValue: 'a(?'}]}}"), c + ".value.headers[0].headerValue", "not a Go regular expression"},
		{"header name empty", criterionWith("{value: {type: SIP, headers: [{headerName: '', headerValue: a}]}}"), c + ".value.headers[0].headerName", `"" is not a header name`},
		{"header name token", criterionWith("{value: {type: SIP, headers: [{headerName: 'X:T', headerValue: a}]}}"), c + ".value.headers[0].headerName", `"X:T" is not a header name`},
		{"PHONE with trunk", criterionWith("{value: {type: PHONE, from: '1', sipTrunkId: t1}}"), c + ".value.sipTrunkId", "not used by a PHONE criterion"},
		{"PHONE with username", criterionWith("{value: {type: PHONE, username: '1'}}"), c + ".value.username", "not used by a PHONE criterion"},
		{"PHONE with headers", criterionWith("{to: '1', value: {type: PHONE, headers: [{headerName: X, headerValue: a}]}}"), c + ".value.headers", "not used by a PHONE criterion"},
		{"empty", criterionWith("{}"), c, "matches every call"},
		{"type only", criterionWith("{value: {type: SIP}}"), c, "matches every call"},
	})
}

func TestValidateTimeWindows(t *testing.T) {
	const w = "routes[0].destinations[0].allowedTimeWindows"
	runRules(t, []ruleCase{
		{"hour 25", windowsWith("{from: {hour: 25, minute: 0}}"), w + "[0].from.hour", "25 is outside 0..24"},
		{"hour negative", windowsWith("{to: {hour: -1, minute: 0}}"), w + "[0].to.hour", "-1 is outside 0..24"},
		{"minute 60", windowsWith("{from: {hour: 8, minute: 60}}"), w + "[0].from.minute", "60 is outside 0..59"},
		{"24:30", windowsWith("{to: {hour: 24, minute: 30}}"), w + "[0].to", "24:30 is past the end of the day"},
		{"from 24:00", windowsWith("{from: {hour: 24, minute: 0}}"), w + "[0].from", "24:00 is the end of the day"},
		{"from after to", windowsWith("{from: {hour: 18, minute: 0}, to: {hour: 8, minute: 0}}"), w + "[0]", "from 18:00 is not before to 08:00"},
		{"from equals to", windowsWith("{from: {hour: 8, minute: 0}, to: {hour: 8, minute: 0}}"), w + "[0]", "from 08:00 is not before to 08:00"},
		{"absent to is 24:00", windowsWith("{from: {hour: 0, minute: 0}, to: {hour: 0, minute: 0}}"), w + "[0]", "from 00:00 is not before to 00:00"},
		{"timezone", windowsWith("{timezone: Europe/Atlantis}"), w + "[0].timezone", `"Europe/Atlantis" is not an IANA time zone`},
		{"timezone Local", windowsWith("{timezone: Local}"), w + "[0].timezone", "differs from host to host"},
		{"day twice", windowsWith("{days: [MONDAY, FRIDAY, MONDAY]}"), w + "[0].days[2]", "MONDAY is listed twice"},
		{"overlap", windowsWith(
			"{days: [MONDAY, TUESDAY], from: {hour: 8, minute: 0}, to: {hour: 12, minute: 0}}",
			"{days: [SUNDAY, MONDAY], from: {hour: 11, minute: 0}, to: {hour: 13, minute: 0}}"),
			w + "[1]", "overlaps allowedTimeWindows[0] on MONDAY"},
		{"overlap with every day", windowsWith(
			"{from: {hour: 8, minute: 0}, to: {hour: 12, minute: 0}}",
			"{days: [SATURDAY], to: {hour: 9, minute: 0}}"),
			w + "[1]", "overlaps allowedTimeWindows[0] on SATURDAY"},
		{"overlap in one zone", windowsWith(
			"{timezone: Europe/London}",
			"{timezone: America/New_York, days: [FRIDAY]}",
			"{days: [FRIDAY], from: {hour: 20, minute: 0}, timezone: America/New_York}"),
			w + "[2]", "overlaps allowedTimeWindows[1] on FRIDAY"},
		{"absent zone is UTC", windowsWith("{days: [MONDAY]}", "{days: [MONDAY], timezone: UTC}"), w + "[1]", "overlaps allowedTimeWindows[0] on MONDAY"},
	})
}

// A REGISTERED trunk without destinationHosts may be a destination: calls
// go to the contacts it registers.
func TestValidateRegisteredDestination(t *testing.T) {
	doc := "sipTrunks:\n  - {id: t1, destinationHosts: [sip.example.com]}\n" +
		"  - {id: reg, type: REGISTERED, inboundAuth: {username: u, password: p}}\n" +
		routeWith("{type: ENDPOINT, value: {type: SIP, sipTrunkId: reg}}")
	if ps := parseProblems(t, withBase(doc)); ps != nil {
		t.Errorf("problems %q, want none", ps)
	}
}

func TestValidateTimeWindowsAccepted(t *testing.T) {
	for _, doc := range []string{
		windowsWith("{from: {hour: 8, minute: 0}, to: {hour: 12, minute: 0}}", "{from: {hour: 12, minute: 0}, to: {hour: 24, minute: 0}}"),
		windowsWith("{days: [MONDAY]}", "{days: [TUESDAY]}"),
		windowsWith("{timezone: Europe/London}", "{timezone: Asia/Tokyo}"),
		windowsWith("{to: {hour: 24, minute: 0}, timezone: Pacific/Chatham}"),
	} {
		if ps := parseProblems(t, withBase(doc)); ps != nil {
			t.Errorf("document:\n%s\nproblems %q, want none", doc, ps)
		}
	}
}

func TestValidateTrunks(t *testing.T) {
	const tr = "sipTrunks[1]"
	runRules(t, []ruleCase{
		{"source host", trunkWith("{id: x, sourceHosts: [192.0.2.1, 300.1.1.1]}"), tr + ".sourceHosts[1]", `"300.1.1.1" is not an IP address or CIDR`},
		{"source prefix", trunkWith("{id: x, sourceHosts: [10.0.0.0/33]}"), tr + ".sourceHosts[0]", "not an IP address or CIDR"},
		{"destination host name", trunkWith("{id: x, destinationHosts: [-bad.example]}"), tr + ".destinationHosts[0]", `"-bad.example" is not an IP address or host name`},
		{"destination underscore", trunkWith("{id: x, destinationHosts: [sip_1.example]}"), tr + ".destinationHosts[0]", "not an IP address or host name"},
		{"destination numeric", trunkWith("{id: x, destinationHosts: [1.2.3.999]}"), tr + ".destinationHosts[0]", "not an IP address or host name"},
		{"destination port", trunkWith("{id: x, destinationHosts: ['sip.example.com:65536']}"), tr + ".destinationHosts[0]", "port 65536 is outside 0..65535"},
		{"destination port word", trunkWith("{id: x, destinationHosts: ['sip.example.com:sip']}"), tr + ".destinationHosts[0]", `port "sip" is not a number`},
		{"destination v6 without brackets", trunkWith("{id: x, destinationHosts: ['[2001:db8::1]']}"), tr + ".destinationHosts[0]", "[IPv6]:port"},
		{"destination label too long", trunkWith("{id: x, destinationHosts: [" + strings.Repeat("a", 64) + ".example]}"), tr + ".destinationHosts[0]", "host name"},
		{"registered needs auth", trunkWith("{id: x, type: REGISTERED}"), tr + ".inboundAuth", "required for a REGISTERED trunk"},
		{"authenticated needs auth", trunkWith("{id: x, type: AUTHENTICATED}"), tr + ".inboundAuth", "required for a AUTHENTICATED trunk"},
		{"auth password", trunkWith("{id: x, type: REGISTERED, inboundAuth: {username: u}}"), tr + ".inboundAuth.password", "required"},
		{"outbound auth user", trunkWith("{id: x, outboundAuth: {password: p}}"), tr + ".outboundAuth.username", "required"},
		{"channelLimit", trunkWith("{id: x, channelLimit: -1}"), tr + ".channelLimit", "-1 is negative"},
		{"cpsLimit", trunkWith("{id: x, cpsLimit: -5}"), tr + ".cpsLimit", "-5 is negative"},
		{"options interval", trunkWith("{id: x, destinationHosts: [a.example], sipOptions: {enabled: true, interval: 500ms}}"), tr + ".sipOptions.interval", "500ms is below 1s"},
		{"options downAfter", trunkWith("{id: x, destinationHosts: [a.example], sipOptions: {enabled: true, downAfter: -1}}"), tr + ".sipOptions.downAfter", "-1 is below 1"},
		{"options upAfter", trunkWith("{id: x, destinationHosts: [a.example], sipOptions: {enabled: true, upAfter: -2}}"), tr + ".sipOptions.upAfter", "-2 is below 1"},
		{"options without hosts", trunkWith("{id: x, sipOptions: {enabled: true}}"), tr + ".sipOptions.enabled", "nothing to poll"},
		{"tls with udp", trunkWith("{id: x, tls: true, transport: UDP}"), tr + ".transport", `"UDP" contradicts tls: true`},
		{"country code long", trunkWith("{id: x, countryCode: '1234'}"), tr + ".countryCode", `"1234" is not a country code: want 1..3 digits`},
		{"country code plus", trunkWith("{id: x, countryCode: '+44'}"), tr + ".countryCode", "not a country code"},
		{"US national not 1", trunkWith("{id: x, numberFormat: US_NATIONAL, countryCode: '44'}"), tr + ".countryCode", "contradicts numberFormat US_NATIONAL"},
	})
}

func TestValidateTrunkHostsAccepted(t *testing.T) {
	doc := trunkWith(`{id: x, sourceHosts: [192.0.2.1, 198.51.100.0/28, "2001:db8::1", "2001:db8::/32"],
      destinationHosts: [192.0.2.1, "192.0.2.1:5060", sip.example.com, "sip.example.com:0", "sip.example.com.", "[2001:db8::1]:5061", "2001:db8::1"],
      tls: true, transport: TLS, numberFormat: US_NATIONAL, countryCode: "1"}`)
	if ps := parseProblems(t, withBase(doc)); ps != nil {
		t.Errorf("problems %q, want none", ps)
	}
}

func TestValidateScripts(t *testing.T) {
	runRules(t, []ruleCase{
		{"both", "scripts: [{id: s1, file: a.lua, source: x}]\n", "scripts[0].source", "set file or source, not both"},
		{"neither", "scripts: [{id: s1}]\n", "scripts[0]", "needs file or source"},
	})
}

func TestValidateNodeSettings(t *testing.T) {
	peers := func(p string) string {
		return "node: {id: n1}\ncluster:\n  raftListen: 127.0.0.1:7000\n  peers: [" + p + "]\n"
	}
	runRules(t, []ruleCase{
		{"listen scheme", "sip: {listen: ['udp://127.0.0.1:5060', 'http://127.0.0.1:5060']}\n", "sip.listen[1]", `"http://127.0.0.1:5060" is not udp://, tcp:// or tls://`},
		{"listen without port", "sip: {listen: ['udp://127.0.0.1']}\n", "sip.listen[0]", `"127.0.0.1" is not host:port`},
		{"listen port range", "sip: {listen: ['tcp://127.0.0.1:70000']}\n", "sip.listen[0]", "port 70000 is outside 0..65535"},
		{"tls listen needs cert", "sip: {listen: ['tls://0.0.0.0:5061'], tls: {cert: a.crt}}\n", "sip.listen[0]", "needs sip.tls.cert and sip.tls.key"},
		{"advertise", "sip: {advertise: 'x y'}\n", "sip.advertise", "not an IP address or host name"},
		{"api listen", "api: {listen: localhost}\n", "api.listen", `"localhost" is not host:port`},
		{"api token", "api: {tokens: [a, '']}\n", "api.tokens[1]", "empty token"},
		{"rtp order", "media: {rtpPorts: 30000-20000}\n", "media.rtpPorts", "want 1024 <= lo < hi <= 65535"},
		{"rtp low", "media: {rtpPorts: 1000-2000}\n", "media.rtpPorts", "want 1024 <= lo"},
		{"rtp high", "media: {rtpPorts: 20000-70000}\n", "media.rtpPorts", "not a port range"},
		{"rtp no pair", "media: {rtpPorts: 20001-20002}\n", "media.rtpPorts", "room for an RTP/RTCP pair"},
		{"rtp form", "media: {rtpPorts: '20000'}\n", "media.rtpPorts", `"20000" is not a port range lo-hi`},
		{"dns server", "dns: {servers: ['192.0.2.53']}\n", "dns.servers[0]", "not host:port"},
		{"dns server port 0", "dns: {servers: ['192.0.2.53:0']}\n", "dns.servers[0]", "port 0 cannot be dialled"},
		{"raftListen", "cluster: {raftListen: '7000'}\n", "cluster.raftListen", "not host:port"},
		{"peer id twice", peers("{id: b, raft: 'b:7000', api: 'b:8080'}, {id: b, raft: 'c:7000', api: 'c:8080'}"), "cluster.peers[1].id", `duplicate id "b"`},
		{"peer is self", peers("{id: n1, raft: 'b:7000', api: 'b:8080'}"), "cluster.peers[0].id", "this node's own id"},
		{"peers need node id", "cluster:\n  raftListen: :7000\n  peers: [{id: b, raft: 'b:7000', api: 'b:8080'}]\n", "node.id", "required when cluster.peers is set"},
		{"peer raft", peers("{id: b, raft: 'b', api: 'b:8080'}"), "cluster.peers[0].raft", `"b" is not host:port`},
		{"peer api missing", peers("{id: b, raft: 'b:7000'}"), "cluster.peers[0].api", "required"},
		{"peer needs host", peers("{id: b, raft: ':7000', api: 'b:8080'}"), "cluster.peers[0].raft", "has no host"},
		{"peers need raftListen", "node: {id: n1}\ncluster: {peers: [{id: b, raft: 'b:7000', api: 'b:8080'}]}\n", "cluster.raftListen", "required when cluster.peers is set"},
	})
}

// TestValidateMessageForm pins the form DESIGN §3 promises.
func TestValidateMessageForm(t *testing.T) {
	doc := withBase(routeWith(sipDest, sipDest, sipDest, sipDest))
	doc = strings.Replace(doc, "      - "+sipDest+"\n", "      - {type: ENDPOINT, priority: 1, value: {type: SIP, sipTrunkId: t1}}\n", 3)
	doc = strings.Replace(doc, "      - "+sipDest+"\n", "      - {type: ENDPOINT, priority: 0, value: {type: SIP, sipTrunkId: t1}}\n", 1)
	_, err := Parse("trunkline.yaml", []byte(doc))
	const want = "trunkline.yaml: routes[0].destinations[3].priority: 0 is outside 1..100"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

// TestValidateAllInOrder checks that every problem is reported, in the order
// its field appears in the document, whatever the order of the checks.
func TestValidateAllInOrder(t *testing.T) {
	doc := `routes:
  - id: r1
    criteria: [{to: "("}]
    destinations:
      - {type: ENDPOINT, priority: 0, value: {type: SIP, sipTrunkId: nope}}
numbers:
  - {number: "+1", action: {type: FORWARD_TO_CALL_ROUTING, routeId: r9}}
sipTrunks:
  - {id: t1, transport: udp, destinationHosts: [a.example]}
  - {id: t1}
media: {rtpPorts: "5"}
`
	want := []string{
		`routes[0].criteria[0].to: "(" is not a Go regular expression`,
		`routes[0].destinations[0].priority: 0 is outside 1..100`,
		`routes[0].destinations[0].value.sipTrunkId: no sipTrunks entry has id "nope"`,
		`numbers[0].number: "+1" is not a number`,
		`numbers[0].action.routeId: no routes entry has id "r9"`,
		`sipTrunks[0].transport: "udp" is not one of UDP, TCP, TLS`,
		`sipTrunks[1].id: duplicate id "t1" (also sipTrunks[0].id)`,
		`media.rtpPorts: "5" is not a port range`,
	}
	ps := parseProblems(t, doc)
	if len(ps) != len(want) {
		t.Fatalf("got %d problems %q, want %d", len(ps), ps, len(want))
	}
	for i, p := range ps {
		if !strings.HasPrefix(p.String(), want[i]) {
			t.Errorf("problem %d: %q, want prefix %q", i, p, want[i])
		}
	}
}

// TestValidateStruct checks Validate on a config built in Go, as the API
// builds one from JSON: Error() without a file.
func TestValidateStruct(t *testing.T) {
	prio := 0
	c := &Config{
		SIPTrunks: []SIPTrunk{{ID: "t1", DestinationHosts: []string{"a.example"}}},
		Routes: []Route{{ID: "r1", Criteria: []Criterion{{To: "1"}}, Destinations: []Destination{
			{Type: DestinationEndpoint, Priority: &prio, Value: &EndpointValue{Type: EndpointSIP, SIPTrunkID: "t1"}},
		}}},
	}
	err := c.Validate("")
	if err == nil || err.Error() != "routes[0].destinations[0].priority: 0 is outside 1..100" {
		t.Errorf("Validate: %v", err)
	}
	prio = 1
	if err := c.Validate("x.yaml"); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := (*Config)(nil).Validate("x"); err == nil {
		t.Error("Validate(nil config) = nil")
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{File: "f.yaml", Problems: []Problem{{Path: "a", Reason: "bad"}, {Reason: "line 3: syntax"}}}
	if got, want := e.Error(), "f.yaml: a: bad\nf.yaml: line 3: syntax"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e.File = ""
	if got, want := e.Error(), "a: bad\nline 3: syntax"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
