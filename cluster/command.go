package cluster

import (
	"encoding/json"
	"fmt"

	"github.com/trunkline/trunkline/config"
)

// CommandType is the first byte of every entry of the command log: what
// the JSON body after it holds. A type names one body shape for good: a
// body that changes incompatibly gets a new type, and the old one is still
// applied when an old log is replayed.
type CommandType byte

// Command types.
const (
	// CmdChange carries one config.Change; the FSM applies it with
	// config.Config.Apply.
	CmdChange CommandType = 1
	// CmdSeed carries a whole config.Config, imported only when the store
	// holds no resources yet (the FSM decides, so two seeds cannot race).
	CmdSeed CommandType = 2
	// CmdMember records (or with Remove, forgets) the API address of a
	// member of the cluster, so every node can name the leader's.
	CmdMember CommandType = 3
	// CmdKV sets a key of the key/value store of Lua scripts (tl.kv_get,
	// tl.kv_set) to a value, or deletes it when the value is empty (body:
	// kvRecord). It is not ignorable: a node that skipped it would serve a
	// different store.
	CmdKV CommandType = 4

	// IgnorableFlag marks a type that nodes which do not know it may skip:
	// types added later that only add information set it, so a node of an
	// older version keeps applying the log during a rolling upgrade. An
	// unknown type without it stops the FSM (see Status.Error).
	IgnorableFlag CommandType = 0x80
)

func (t CommandType) String() string {
	switch t {
	case CmdChange:
		return "change"
	case CmdSeed:
		return "seed"
	case CmdMember:
		return "member"
	case CmdKV:
		return "kv"
	}
	return fmt.Sprintf("type %d", byte(t))
}

// memberRecord is the body of CmdMember.
type memberRecord struct {
	ID     string `json:"id"`
	API    string `json:"api,omitempty"`
	Remove bool   `json:"remove,omitempty"`
}

// encode returns the log entry of a command: its type byte, then body as JSON.
func encode(t CommandType, body any) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("cluster: encode %s: %w", t, err)
	}
	return append([]byte{byte(t)}, data...), nil
}

// encodeChange is encode for a CmdChange.
func encodeChange(ch config.Change) ([]byte, error) { return encode(CmdChange, ch) }

// UnknownCommandError is an entry of the log whose type this version does
// not know and may not skip: a newer node wrote it. The FSM stops applying
// the log when it meets one (Status.Error reports it).
type UnknownCommandError struct {
	Type  CommandType
	Index uint64
}

func (e *UnknownCommandError) Error() string {
	return fmt.Sprintf("cluster: log entry %d has unknown command type %d: this node is older than the one that wrote it; upgrade it", e.Index, byte(e.Type))
}
