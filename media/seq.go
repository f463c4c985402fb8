package media

// Sequence-number tracking, after RFC 3550 §A.1 and §A.3.
const (
	maxDropout  = 3000 // a jump forward beyond this starts a new count
	maxMisorder = 100  // a packet this far behind the highest is late, not a jump
)

// seqTracker counts the packets missing from one peer's RTP: expected −
// received per SSRC, summed over the SSRCs (and restarts) seen. It belongs
// to one goroutine.
type seqTracker struct {
	started  bool
	ssrc     uint32
	base     uint64 // extended sequence number of the first packet
	max      uint64 // highest extended sequence number
	received uint64
	prevLost uint64 // lost in earlier streams
}

// update takes the SSRC and sequence number of a packet and returns the
// packets lost so far.
func (t *seqTracker) update(ssrc uint32, seq uint16) uint64 {
	if !t.started || ssrc != t.ssrc {
		t.restart(ssrc, seq)
		return t.prevLost
	}
	switch d := seq - uint16(t.max); {
	case d == 0: // a duplicate: RFC 3550 counts it received
		t.received++
	case d < maxDropout: // in order, perhaps after a gap
		t.max += uint64(d)
		t.received++
	case d >= 1<<16-maxMisorder: // late or reordered
		t.received++
	default: // a jump: the sender restarted its sequence
		t.restart(ssrc, seq)
		return t.prevLost
	}
	return t.prevLost + t.lost()
}

func (t *seqTracker) lost() uint64 {
	expected := t.max - t.base + 1
	if t.received >= expected {
		return 0
	}
	return expected - t.received
}

func (t *seqTracker) restart(ssrc uint32, seq uint16) {
	if t.started {
		t.prevLost += t.lost()
	}
	// Offset by one cycle so that a late packet before the first one
	// cannot wrap the arithmetic.
	*t = seqTracker{started: true, ssrc: ssrc, base: 1<<16 + uint64(seq), max: 1<<16 + uint64(seq), received: 1, prevLost: t.prevLost}
}
