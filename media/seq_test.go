package media

import "testing"

func TestSeqTracker(t *testing.T) {
	type pkt struct {
		ssrc uint32
		seq  uint16
	}
	seqs := func(ssrc uint32, ns ...uint16) []pkt {
		var ps []pkt
		for _, n := range ns {
			ps = append(ps, pkt{ssrc, n})
		}
		return ps
	}
	cat := func(ps ...[]pkt) []pkt {
		var all []pkt
		for _, p := range ps {
			all = append(all, p...)
		}
		return all
	}
	tests := []struct {
		name string
		pkts []pkt
		lost uint64
	}{
		{"in order", seqs(1, 10, 11, 12, 13), 0},
		{"one gap", seqs(1, 10, 11, 14, 15), 2},
		{"wrap without loss", seqs(1, 65534, 65535, 0, 1), 0},
		{"gap across the wrap", seqs(1, 65534, 1, 2), 2},
		{"reordered is not lost", seqs(1, 1, 3, 2, 4), 0},
		{"late after loss counted", seqs(1, 1, 2, 5, 3), 1},
		{"duplicate does not make loss negative", seqs(1, 1, 2, 2, 3), 0},
		{"late before the first", seqs(1, 100, 99, 101), 0},
		{"new ssrc keeps earlier loss", cat(seqs(1, 1, 3), seqs(2, 500, 501, 503)), 2},
		{"jump restarts the count", seqs(1, 1, 3, 20000, 20001, 20003), 2},
		{"single packet", seqs(7, 42), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr seqTracker
			var lost uint64
			for _, p := range tt.pkts {
				lost = tr.update(p.ssrc, p.seq)
			}
			if lost != tt.lost {
				t.Errorf("lost = %d, want %d", lost, tt.lost)
			}
		})
	}
}
