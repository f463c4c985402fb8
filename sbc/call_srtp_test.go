package sbc

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/media/srtp"
)

// withSRTP sets the srtp setting of a trunk of the rig.
func withSRTP(t *testing.T, r *callRig, trunk, policy string) {
	t.Helper()
	cfg := r.s.Config().Clone()
	for i := range cfg.SIPTrunks {
		if cfg.SIPTrunks[i].ID == trunk {
			cfg.SIPTrunks[i].SRTP = policy
		}
	}
	if err := r.s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
}

// cryptoLines returns the values of a body's a=crypto attributes.
func cryptoLines(body []byte) []string {
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "a=crypto:"); ok {
			out = append(out, v)
		}
	}
	return out
}

// A plain-RTP caller and a callee on a trunk with srtp REQUIRED: the callee
// is offered RTP/SAVP with the appliance's keys (none of the caller's SDP
// but its codecs), answers with its own, and media flows both ways — plain
// on the caller's leg, SRTP on the callee's, the relay encrypting and
// decrypting between them (the callee is a real SRTP peer: media/srtp on
// pion/srtp, keyed from the SDP alone).
func TestCallSRTPInterworking(t *testing.T) {
	r := newCallRig(t, "", "")
	withSRTP(t, r, "carrier-1", config.SRTPRequired)
	oc := r.call()
	in := r.c1.nextInvite()
	body := in.req.Body()
	offered := cryptoLines(body)
	if !bytes.Contains(body, []byte(" RTP/SAVP ")) || len(offered) == 0 {
		t.Fatalf("the SRTP trunk was offered no RTP/SAVP with keys:\n%s", body)
	}
	remote, local, err := srtp.Negotiate(offered, srtp.AllSuites, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := srtp.NewSession(local, remote) // the callee's: it sends with local
	if err != nil {
		t.Fatal(err)
	}
	answer := bytes.Replace(r.c1.sdp("a=crypto:"+local.String()), []byte(" RTP/AVP "), []byte(" RTP/SAVP "), 1)
	in.respond(200, "OK", answer)
	ok := oc.final()
	if ok.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", ok.StatusCode)
	}
	if a := ok.Body(); !bytes.Contains(a, []byte(" RTP/AVP ")) || len(cryptoLines(a)) > 0 {
		t.Errorf("the plain caller's answer is not plain RTP/AVP:\n%s", a)
	}
	oc.ack(ok)
	r.c1.nextAck()

	// Caller → callee: plain in, SRTP out.
	toA, toB := sdpAddr(t, ok.Body()), sdpAddr(t, body)
	buf := make([]byte, 2048)
	got := ""
	for seq := uint16(1); seq <= 20 && got == ""; seq++ {
		if _, err := r.caller.rtp.WriteToUDPAddrPort(rtpPacket(seq, "from-alice"), toA); err != nil {
			t.Fatal(err)
		}
		r.c1.rtp.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _, err := r.c1.rtp.ReadFromUDPAddrPort(buf)
		if err != nil {
			continue
		}
		plain, err := sess.In.DecryptRTP(nil, buf[:n])
		if err != nil {
			t.Fatalf("the callee cannot decrypt what the relay sent (%d bytes): %v", n, err)
		}
		got = string(plain[12:])
	}
	if got != "from-alice" {
		t.Fatalf("callee got %q, want from-alice", got)
	}

	// Callee → caller: SRTP in, plain out.
	got = ""
	for seq := uint16(1); seq <= 20 && got == ""; seq++ {
		pkt, err := sess.Out.EncryptRTP(nil, rtpPacket(seq, "from-bob"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.c1.rtp.WriteToUDPAddrPort(pkt, toB); err != nil {
			t.Fatal(err)
		}
		r.caller.rtp.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _, err := r.caller.rtp.ReadFromUDPAddrPort(buf)
		if err == nil && n > 12 {
			got = string(buf[12:n])
		}
	}
	if got != "from-bob" {
		t.Fatalf("caller got %q, want from-bob (decrypted)", got)
	}
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}

// A trunk with srtp REQUIRED refuses a plain offer with 488; one with srtp
// DISABLED refuses an SRTP offer with 488.
func TestCallSRTPPolicy(t *testing.T) {
	r := newCallRig(t, "", "")
	withSRTP(t, r, "pbx", config.SRTPRequired)
	if res := r.call().final(); res.StatusCode != 488 {
		t.Errorf("plain offer on an srtp REQUIRED trunk: %d, want 488", res.StatusCode)
	}
	withSRTP(t, r, "pbx", config.SRTPDisabled)
	key, err := srtp.NewCrypto(1, srtp.AESCM128HMACSHA1_80)
	if err != nil {
		t.Fatal(err)
	}
	offer := bytes.Replace(r.caller.sdp("a=crypto:"+key.String()), []byte(" RTP/AVP "), []byte(" RTP/SAVP "), 1)
	if res := r.caller.invite(r.to, called, offer).final(); res.StatusCode != 488 {
		t.Errorf("SRTP offer on an srtp DISABLED trunk: %d, want 488", res.StatusCode)
	}
	r.c1.noInvite()

	// OPTIONAL takes it, and answers with keys of its own.
	withSRTP(t, r, "pbx", config.SRTPOptional)
	oc := r.caller.invite(r.to, called, offer)
	in := r.c1.nextInvite()
	if b := in.req.Body(); bytes.Contains(b, []byte("RTP/SAVP")) || len(cryptoLines(b)) > 0 {
		t.Errorf("the caller's SRTP reached the plain callee:\n%s", b)
	}
	in.answer()
	ok := oc.final()
	lines := cryptoLines(ok.Body())
	if ok.StatusCode != 200 || len(lines) != 1 || !bytes.Contains(ok.Body(), []byte(" RTP/SAVP ")) {
		t.Fatalf("caller got %d with\n%s\nwant 200 with RTP/SAVP and one a=crypto", ok.StatusCode, ok.Body())
	}
	ours, err := srtp.ParseCrypto(lines[0])
	if err != nil || ours.Tag != 1 || ours.Suite != srtp.AESCM128HMACSHA1_80 || ours.String() == key.String() {
		t.Errorf("answer crypto %q: want tag 1, AES_CM_128_HMAC_SHA1_80, fresh keys (%v)", lines[0], err)
	}
	oc.ack(ok)
	r.c1.nextAck()
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}
