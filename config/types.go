package config

// Config is the whole document of DESIGN §3: node settings plus the replicated
// resources (trunks, numbers, routes, applications, scripts). The same shape is
// read from YAML and written as JSON by the API, so every field carries both tags.
type Config struct {
	Node                Node                 `yaml:"node,omitempty" json:"node,omitzero"`
	SIP                 SIP                  `yaml:"sip,omitempty" json:"sip,omitzero"`
	DNS                 DNS                  `yaml:"dns,omitempty" json:"dns,omitzero"`
	Media               Media                `yaml:"media,omitempty" json:"media,omitzero"`
	API                 API                  `yaml:"api,omitempty" json:"api,omitzero"`
	Cluster             Cluster              `yaml:"cluster,omitempty" json:"cluster,omitzero"`
	SIPTrunks           []SIPTrunk           `yaml:"sipTrunks,omitempty" json:"sipTrunks,omitempty"`
	Numbers             []Number             `yaml:"numbers,omitempty" json:"numbers,omitempty"`
	Routes              []Route              `yaml:"routes,omitempty" json:"routes,omitempty"`
	CallsConfigurations []CallsConfiguration `yaml:"callsConfigurations,omitempty" json:"callsConfigurations,omitempty"`
	Scripts             []Script             `yaml:"scripts,omitempty" json:"scripts,omitempty"`
}

// Node identifies this appliance and where it keeps its state.
type Node struct {
	ID      string `yaml:"id,omitempty" json:"id,omitempty"`
	DataDir string `yaml:"dataDir,omitempty" json:"dataDir,omitempty"`
}

// SIP holds the signalling listeners and their behaviour.
type SIP struct {
	Listen       []string `yaml:"listen,omitempty" json:"listen,omitempty"` // "udp://host:port", "tcp://…", "tls://…"
	TLS          TLSFiles `yaml:"tls,omitempty" json:"tls,omitzero"`
	Advertise    string   `yaml:"advertise,omitempty" json:"advertise,omitempty"`
	DropUnknown  bool     `yaml:"dropUnknown,omitempty" json:"dropUnknown,omitempty"`
	DrainTimeout Duration `yaml:"drainTimeout,omitempty" json:"drainTimeout,omitzero"`
	// SourceRateLimit bounds the UDP requests per second (burst: twice
	// that) from one source address that no trunk owns (not in any
	// sourceHosts or destinationHosts): floods are dropped before they are
	// parsed. Absent: DefaultSourceRateLimit; 0: no limit.
	SourceRateLimit *int `yaml:"sourceRateLimit,omitempty" json:"sourceRateLimit,omitempty"`
}

// TLSFiles names the certificate, key and optional CA bundle for TLS listeners.
type TLSFiles struct {
	Cert string `yaml:"cert,omitempty" json:"cert,omitempty"`
	Key  string `yaml:"key,omitempty" json:"key,omitempty"`
	CA   string `yaml:"ca,omitempty" json:"ca,omitempty"`
}

// DNS overrides the system resolver for RFC 3263 look-ups.
type DNS struct {
	Servers []string `yaml:"servers,omitempty" json:"servers,omitempty"` // host:port
}

// Media configures the RTP relay.
type Media struct {
	RTPPorts  string `yaml:"rtpPorts,omitempty" json:"rtpPorts,omitempty"` // "20000-30000"
	Advertise string `yaml:"advertise,omitempty" json:"advertise,omitempty"`
}

// API configures the HTTP management and Calls API listener.
type API struct {
	Listen string   `yaml:"listen,omitempty" json:"listen,omitempty"`
	Tokens []string `yaml:"tokens,omitempty" json:"tokens,omitempty"`
}

// Cluster configures Raft replication. No peers means a single node.
type Cluster struct {
	RaftListen string `yaml:"raftListen,omitempty" json:"raftListen,omitempty"`
	Peers      []Peer `yaml:"peers,omitempty" json:"peers,omitempty"`
}

// Peer is another node of the cluster.
type Peer struct {
	ID   string `yaml:"id" json:"id"`
	Raft string `yaml:"raft" json:"raft"`
	API  string `yaml:"api" json:"api"`
}

// Trunk types.
const (
	TrunkStatic        = "STATIC"
	TrunkRegistered    = "REGISTERED"
	TrunkAuthenticated = "AUTHENTICATED"
)

// Admin and route statuses.
const (
	Enabled  = "ENABLED"
	Disabled = "DISABLED"
)

// Number formats of a trunk (DESIGN §3).
const (
	FormatE164          = "E164"
	FormatInternational = "INTERNATIONAL"
	FormatUSNational    = "US_NATIONAL"
	FormatUnchanged     = "UNCHANGED"
)

// SIPTrunk is a peer we exchange calls with.
type SIPTrunk struct {
	ID                        string       `yaml:"id" json:"id"`
	Name                      string       `yaml:"name,omitempty" json:"name,omitempty"`
	Type                      string       `yaml:"type,omitempty" json:"type,omitempty"`               // STATIC | REGISTERED | AUTHENTICATED
	AdminStatus               string       `yaml:"adminStatus,omitempty" json:"adminStatus,omitempty"` // ENABLED | DISABLED
	SourceHosts               []string     `yaml:"sourceHosts,omitempty" json:"sourceHosts,omitempty"`
	DestinationHosts          []string     `yaml:"destinationHosts,omitempty" json:"destinationHosts,omitempty"`
	Strategy                  string       `yaml:"strategy,omitempty" json:"strategy,omitempty"`   // FAILOVER | ROUND_ROBIN
	Transport                 string       `yaml:"transport,omitempty" json:"transport,omitempty"` // UDP | TCP | TLS
	TLS                       bool         `yaml:"tls,omitempty" json:"tls,omitempty"`
	SRTP                      string       `yaml:"srtp,omitempty" json:"srtp,omitempty"` // DISABLED | OPTIONAL | REQUIRED
	Codecs                    []string     `yaml:"codecs,omitempty" json:"codecs,omitempty"`
	DTMF                      string       `yaml:"dtmf,omitempty" json:"dtmf,omitempty"` // RFC2833 | INBAND | INFO
	SIPOptions                *SIPOptions  `yaml:"sipOptions,omitempty" json:"sipOptions,omitempty"`
	ChannelLimit              int          `yaml:"channelLimit,omitempty" json:"channelLimit,omitempty"`
	CPSLimit                  int          `yaml:"cpsLimit,omitempty" json:"cpsLimit,omitempty"`
	NumberFormat              string       `yaml:"numberFormat,omitempty" json:"numberFormat,omitempty"`
	CountryCode               string       `yaml:"countryCode,omitempty" json:"countryCode,omitempty"`
	InternationalCallsAllowed *bool        `yaml:"internationalCallsAllowed,omitempty" json:"internationalCallsAllowed,omitempty"`
	InboundAuth               *Credentials `yaml:"inboundAuth,omitempty" json:"inboundAuth,omitempty"`
	OutboundAuth              *Credentials `yaml:"outboundAuth,omitempty" json:"outboundAuth,omitempty"`
	AccessCode                string       `yaml:"accessCode,omitempty" json:"accessCode,omitempty"`
}

// SIPOptions configures OPTIONS polling of a trunk's destination hosts.
type SIPOptions struct {
	Enabled   bool     `yaml:"enabled" json:"enabled"`
	Interval  Duration `yaml:"interval,omitempty" json:"interval,omitzero"`
	DownAfter int      `yaml:"downAfter,omitempty" json:"downAfter,omitempty"`
	UpAfter   int      `yaml:"upAfter,omitempty" json:"upAfter,omitempty"`
}

// Credentials are a digest username and password.
type Credentials struct {
	Username string `yaml:"username" json:"username"`
	Password string `yaml:"password" json:"password"`
}

// Number action types.
const (
	ActionForwardToCallRouting  = "FORWARD_TO_CALL_ROUTING"
	ActionForwardToSubscription = "FORWARD_TO_SUBSCRIPTION"
	ActionForwardToPhone        = "FORWARD_TO_PHONE"
	ActionNoAction              = "NO_ACTION"
)

// Number is an inbound number and what happens to calls to it.
type Number struct {
	Number string       `yaml:"number" json:"number"` // E.164 digits, no '+'
	Action NumberAction `yaml:"action" json:"action"`
}

// NumberAction is the voice setup of a number.
type NumberAction struct {
	Type                 string   `yaml:"type" json:"type"`
	RouteID              string   `yaml:"routeId,omitempty" json:"routeId,omitempty"`
	CallsConfigurationID string   `yaml:"callsConfigurationId,omitempty" json:"callsConfigurationId,omitempty"`
	PhoneNumber          string   `yaml:"phoneNumber,omitempty" json:"phoneNumber,omitempty"`
	ViaSIPTrunkIDs       []string `yaml:"viaSipTrunkIds,omitempty" json:"viaSipTrunkIds,omitempty"`
}

// Route is one entry of the call routing table.
type Route struct {
	ID           string        `yaml:"id" json:"id"`
	Name         string        `yaml:"name,omitempty" json:"name,omitempty"`
	Status       string        `yaml:"status,omitempty" json:"status,omitempty"` // ENABLED | DISABLED
	Criteria     []Criterion   `yaml:"criteria,omitempty" json:"criteria,omitempty"`
	AdvanceOn    []int         `yaml:"advanceOn,omitempty" json:"advanceOn,omitempty"`
	ScriptID     string        `yaml:"scriptId,omitempty" json:"scriptId,omitempty"`
	Destinations []Destination `yaml:"destinations,omitempty" json:"destinations,omitempty"`
}

// DefaultAdvanceOn is the set of final response codes that make the hunt move on.
var DefaultAdvanceOn = []int{408, 480, 500, 502, 503, 504}

// Criterion types.
const (
	CriterionPhone = "PHONE"
	CriterionSIP   = "SIP"
)

// Criterion selects calls for a route. Every field set must match (AND); an
// absent field matches anything.
type Criterion struct {
	To    string          `yaml:"to,omitempty" json:"to,omitempty"`
	Value *CriterionValue `yaml:"value,omitempty" json:"value,omitempty"`
}

// CriterionValue is the source side of a criterion.
type CriterionValue struct {
	Type       string        `yaml:"type" json:"type"` // PHONE | SIP
	From       string        `yaml:"from,omitempty" json:"from,omitempty"`
	SIPTrunkID string        `yaml:"sipTrunkId,omitempty" json:"sipTrunkId,omitempty"`
	Username   string        `yaml:"username,omitempty" json:"username,omitempty"`
	Headers    []HeaderMatch `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// HeaderMatch requires a header whose value matches HeaderValue.
type HeaderMatch struct {
	HeaderName  string `yaml:"headerName" json:"headerName"`
	HeaderValue string `yaml:"headerValue" json:"headerValue"`
}

// Destination types.
const (
	DestinationEndpoint    = "ENDPOINT"
	DestinationURL         = "URL"
	DestinationApplication = "APPLICATION"
)

// Endpoint value types.
const (
	EndpointSIP              = "SIP"
	EndpointPhone            = "PHONE"
	EndpointCallsApplication = "CALLS_APPLICATION"
)

// Defaults of a destination.
const (
	DefaultWeight         = 1
	DefaultConnectTimeout = 60 // seconds
	MaxDestinations       = 10
)

// Destination is one place a route may send a call.
type Destination struct {
	Type               string          `yaml:"type" json:"type"` // ENDPOINT | URL | APPLICATION
	Priority           *int            `yaml:"priority,omitempty" json:"priority,omitempty"`
	Weight             *int            `yaml:"weight,omitempty" json:"weight,omitempty"`
	ConnectTimeout     *int            `yaml:"connectTimeout,omitempty" json:"connectTimeout,omitempty"` // seconds
	Value              *EndpointValue  `yaml:"value,omitempty" json:"value,omitempty"`
	URL                string          `yaml:"url,omitempty" json:"url,omitempty"`
	SecurityConfig     *SecurityConfig `yaml:"securityConfig,omitempty" json:"securityConfig,omitempty"`
	Recording          *Recording      `yaml:"recording,omitempty" json:"recording,omitempty"`
	AllowedTimeWindows []TimeWindow    `yaml:"allowedTimeWindows,omitempty" json:"allowedTimeWindows,omitempty"`
}

// WeightOr returns the destination's weight, or the default.
func (d *Destination) WeightOr() int {
	if d.Weight == nil {
		return DefaultWeight
	}
	return *d.Weight
}

// ConnectTimeoutOr returns the destination's connect timeout in seconds, or the default.
func (d *Destination) ConnectTimeoutOr() int {
	if d.ConnectTimeout == nil {
		return DefaultConnectTimeout
	}
	return *d.ConnectTimeout
}

// EndpointValue is where an ENDPOINT or APPLICATION destination goes.
type EndpointValue struct {
	Type           string            `yaml:"type" json:"type"` // SIP | PHONE | CALLS_APPLICATION
	SIPTrunkID     string            `yaml:"sipTrunkId,omitempty" json:"sipTrunkId,omitempty"`
	Username       string            `yaml:"username,omitempty" json:"username,omitempty"`
	CustomHeaders  map[string]string `yaml:"customHeaders,omitempty" json:"customHeaders,omitempty"`
	PhoneNumber    string            `yaml:"phoneNumber,omitempty" json:"phoneNumber,omitempty"`
	ViaSIPTrunkIDs []string          `yaml:"viaSipTrunkIds,omitempty" json:"viaSipTrunkIds,omitempty"`
	ApplicationID  string            `yaml:"applicationId,omitempty" json:"applicationId,omitempty"`
	Timeout        int               `yaml:"timeout,omitempty" json:"timeout,omitempty"` // seconds
}

// SecurityConfig signs requests to a URL destination or webhook.
type SecurityConfig struct {
	Type      string `yaml:"type" json:"type"` // HMAC
	SecretKey string `yaml:"secretKey" json:"secretKey"`
	Algorithm string `yaml:"algorithm,omitempty" json:"algorithm,omitempty"` // HMAC_SHA_256
}

// Recording asks for the call to be recorded.
type Recording struct {
	RecordingType        string                `yaml:"recordingType" json:"recordingType"` // AUDIO
	RecordingComposition *RecordingComposition `yaml:"recordingComposition,omitempty" json:"recordingComposition,omitempty"`
}

// RecordingComposition says whether legs are mixed into one file.
type RecordingComposition struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
}

// TimeWindow is a weekly window in which a destination may be used. From is
// inclusive, To exclusive; To {hour: 24} means midnight at the end of the day.
type TimeWindow struct {
	Days     []string   `yaml:"days,omitempty" json:"days,omitempty"`         // MONDAY..SUNDAY; absent = every day
	From     *TimeOfDay `yaml:"from,omitempty" json:"from,omitempty"`         // absent = 00:00
	To       *TimeOfDay `yaml:"to,omitempty" json:"to,omitempty"`             // absent = 24:00
	Timezone string     `yaml:"timezone,omitempty" json:"timezone,omitempty"` // IANA; absent = UTC
}

// TimeOfDay is a wall-clock time in a window's time zone.
type TimeOfDay struct {
	Hour   int `yaml:"hour" json:"hour"`
	Minute int `yaml:"minute" json:"minute"`
}

// Minutes returns the time of day as minutes since midnight.
func (t TimeOfDay) Minutes() int { return t.Hour*60 + t.Minute }

// CallsConfiguration is a Calls API application.
type CallsConfiguration struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name,omitempty" json:"name,omitempty"`
	Webhook *Webhook `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	Events  []string `yaml:"events,omitempty" json:"events,omitempty"`
}

// Webhook is where an application's events are POSTed.
type Webhook struct {
	URL            string          `yaml:"url" json:"url"`
	SecurityConfig *SecurityConfig `yaml:"securityConfig,omitempty" json:"securityConfig,omitempty"`
}

// Script is a Lua routing script, from a file or inline.
type Script struct {
	ID     string `yaml:"id" json:"id"`
	File   string `yaml:"file,omitempty" json:"file,omitempty"`
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
}
