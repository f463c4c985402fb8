// Package conformance holds the SIPp conformance suite of DESIGN §7: SIPp
// scenarios (scenarios/uac_*.xml, scenarios/uas_*.xml) and the Go runner
// that drives them around the real `trunkline serve` binary.
//
// The package is tests only. TestMain builds ./cmd/trunkline once (with
// -race when the tests have it); each scenario of TestConformance then runs
// as a parallel subtest with its own trunkline, configuration and ports: SIPp
// UASes stand for the callee trunks of one route, SIPp UACs place the calls,
// RTP probes of the runner count the media each side receives, and the
// assertions read SIPp's exit codes and message traces, the probes, and
// GET /metrics. With -direct each scenario's UAC runs straight against its
// UAS partners instead, without trunkline, to validate the scenario files.
// TestSRVFailover and TestCPSLimitFlood (trunks_test.go) need state across
// calls — a DNS SRV trunk whose primary dies, a trunk flooded past its
// cpsLimit — and run as tests of their own with the same harness, as do
// the trunk security tests of auth_test.go (inbound digest, REGISTER,
// accessCode, outboundAuth, internationalCallsAllowed) and the Lua hook
// tests of scripts_test.go (global scripts that refuse a call, rewrite the
// called number, reorder the plan, stamp a header, and fail) and of
// scripts_reload_test.go (a route's own script next to a global one, a
// script replaced through the API and hot-loaded). TestCluster
// (cluster_test.go) runs three trunkline processes as one Raft cluster:
// writes on followers, the leader killed and restarted, a full restart and
// a lone node refusing writes.
// README.md says how to run one scenario, by the runner or by hand.
//
// It imports no package of the module: it sees trunkline as an operator and
// its peers do, through the binary, its YAML configuration, SIP, RTP and
// HTTP.
package conformance
