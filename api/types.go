package api

// Status values of TrunkStatus and HostStatus.
const (
	StatusInService    = "IN_SERVICE"
	StatusOutOfService = "OUT_OF_SERVICE"
	StatusUnknown      = "UNKNOWN"

	RegistrationNA           = "N/A"
	RegistrationRegistered   = "REGISTERED"
	RegistrationUnregistered = "UNREGISTERED"
)

// TrunkStatus is the body of GET /calls/1/sip-trunks/{id}/status.
type TrunkStatus struct {
	AdminStatus        string       `json:"adminStatus"`        // ENABLED | DISABLED
	RegistrationStatus string       `json:"registrationStatus"` // N/A unless the trunk registers
	ActiveCalls        int          `json:"activeCalls"`
	OptionsStatus      string       `json:"optionsStatus"` // IN_SERVICE | OUT_OF_SERVICE | UNKNOWN
	Hosts              []HostStatus `json:"hosts"`
}

// HostStatus is the state of one destination host of a trunk.
type HostStatus struct {
	Host   string `json:"host"`   // as configured
	Status string `json:"status"` // IN_SERVICE | OUT_OF_SERVICE | UNKNOWN
}

// Cluster roles.
const (
	RoleLeader    = "LEADER"
	RoleFollower  = "FOLLOWER"
	RoleCandidate = "CANDIDATE"
)

// ClusterStatus is the body of GET /cluster/1/status.
type ClusterStatus struct {
	NodeID       string `json:"nodeId"`
	Role         string `json:"role"`
	Leader       string `json:"leader"` // the leader's node id; "" when none is known
	Peers        []Peer `json:"peers"`
	AppliedIndex uint64 `json:"appliedIndex"`
}

// Peer is another node of the cluster.
type Peer struct {
	ID   string `json:"id"`
	Raft string `json:"raft"`
	API  string `json:"api"`
}

// Paging is the paging block of a list response.
type Paging struct {
	Page         int `json:"page"`
	Size         int `json:"size"`
	TotalPages   int `json:"totalPages"`
	TotalResults int `json:"totalResults"`
}

// ListResponse is the body of a list endpoint.
type ListResponse[T any] struct {
	Results []T    `json:"results"`
	Paging  Paging `json:"paging"`
}

// Error bodies (Infobip's shape).
type errorBody struct {
	RequestError requestError `json:"requestError"`
}

type requestError struct {
	ServiceException serviceException `json:"serviceException"`
}

type serviceException struct {
	MessageID string `json:"messageId"`
	Text      string `json:"text"`
}
