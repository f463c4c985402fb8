// Package cluster is Trunkline's replicated configuration store: the
// resources of the configuration (SIP trunks, numbers, routes, Calls API
// applications, scripts) kept identical on every node by hashicorp/raft,
// with its log and stable store in raft-boltdb (DataDir/raft/raft.db) and
// file snapshots beside them (DataDir/raft/snapshots).
//
// The replicated state is a typed, versioned command log. Each entry is one
// byte of CommandType and a JSON body: CmdChange carries a config.Change,
// which the FSM applies with config.Config.Apply — pure and deterministic,
// so every node reaches the same configuration; a change Apply refuses is
// answered with its error and leaves the state unchanged. CmdSeed imports
// a whole configuration only when the store holds no resources (the file
// of `serve --config` seeds an empty store). CmdMember records the API
// address of a member added through AddMember, so that every node can name
// the leader's API address to forward writes to; the initial members' API
// addresses come from cluster.peers. CmdKV sets (or, with an empty value,
// deletes) a key of the small key/value store of Lua scripts (tl.kv_get,
// tl.kv_set: Node.KVGet reads this node's applied state, Node.KVSet writes
// through the leader); its limits (MaxKVKeyLen, MaxKVValueLen, MaxKVKeys,
// refused with ErrKVLimit) are checked by the leader before commit and by
// the FSM again, and it changes neither the configuration nor its index,
// so subscribers hear nothing of it. A type with IgnorableFlag is skipped
// by nodes that do not know it; an unknown type without it stops the FSM
// loudly (logged, and in Status.Error) rather than letting the node diverge.
//
// The FSM holds an atomic pointer to an immutable state (configuration,
// member addresses, key/value store, applied index): readers never lock, a
// snapshot is the pointer, Persist writes it as JSON (a versioned body:
// version 2 added the key/value store, and is written only when the store
// holds keys), and Restore decodes a fresh state and swaps it in. The replicated configuration has no node settings (they
// differ per node); Options.Settings supplies this node's.
//
// A node without peers is a one-voter cluster on raft's in-process
// transport — it opens no port — that bootstraps itself; it still keeps its
// state on disk. With peers, raft runs over TCP on RaftListen and every node
// that has no state bootstraps the same membership: itself and its peers,
// server ids the node ids, addresses the raft addresses.
//
// Writes (Apply, Seed, AddMember, RemoveMember, KVSet) happen on the leader: a
// change is validated against the leader's configuration before it is
// committed, so an invalid change never enters the log. A follower answers
// a *NotLeaderError naming the leader's API address; with no leader, or no
// majority to commit, the error wraps ErrNoQuorum. Subscribe delivers every
// applied configuration, in order, from a goroutine of the node's own.
//
// cluster imports config and the raft libraries; never sbc or api.
package cluster
