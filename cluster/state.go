package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// HasState reports whether dataDir holds a node's raft state (DataDir/raft):
// a raft.db with a log entry, or a snapshot. No raft.db, an empty one, or
// one with an empty log and no snapshot is no state (a node that started in
// join mode and was never added). A raft.db that
// cannot be read counts as state: the node then starts as it always did,
// and Start reports the problem.
func HasState(dataDir string) bool {
	dir := filepath.Join(dataDir, "raft")
	if snaps, err := os.ReadDir(filepath.Join(dir, "snapshots")); err == nil && len(snaps) > 0 {
		return true
	}
	path := filepath.Join(dir, "raft.db")
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false
	case err != nil:
		return true
	case fi.Size() == 0:
		return false
	}
	return raftLogNotEmpty(path)
}

// raftLogNotEmpty opens a raft.db read-only and reports whether its log
// holds an entry (true too when it cannot be read).
func raftLogNotEmpty(path string) (found bool) {
	defer func() {
		if recover() != nil { // a raft.db without its buckets
			found = true
		}
	}()
	db, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{ReadOnly: true, Timeout: time.Second}})
	if err != nil {
		return true
	}
	defer db.Close()
	last, err := db.LastIndex()
	return err != nil || last > 0
}
