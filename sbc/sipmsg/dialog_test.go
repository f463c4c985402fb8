package sipmsg

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func testDialog() *Dialog {
	return &Dialog{
		CallID:       "cid-1",
		LocalURI:     sip.Uri{Scheme: "sip", User: "alice", Host: "192.0.2.1"},
		LocalName:    "Alice",
		LocalTag:     "lt",
		RemoteURI:    sip.Uri{Scheme: "sip", User: "bob", Host: "carrier.example"},
		RemoteTag:    "rt",
		RemoteTarget: sip.Uri{Scheme: "sip", User: "bob", Host: "198.51.100.5", Port: 5070},
		RouteSet:     []sip.Uri{{Scheme: "sip", Host: "proxy1.example", UriParams: sip.HeaderParams{{K: "lr"}}}},
		CSeq:         10,
		Local:        Local{Transport: "UDP", Host: "192.0.2.1", Port: 5060},
	}
}

func TestDialogRequest(t *testing.T) {
	d := testDialog()
	bye := d.Request(sip.BYE, nil, "")
	if bye.CSeq().SeqNo != 11 || d.CSeq != 11 || bye.CSeq().MethodName != sip.BYE {
		t.Fatalf("CSeq %v, dialog at %d", bye.CSeq(), d.CSeq)
	}
	if bye.Recipient.String() != "sip:bob@198.51.100.5:5070" {
		t.Errorf("R-URI %s", bye.Recipient.String())
	}
	if r := bye.Route(); r == nil || r.Address.Host != "proxy1.example" {
		t.Errorf("Route %v", r)
	}
	if Tag(bye.From().Params) != "lt" || Tag(bye.To().Params) != "rt" || bye.From().DisplayName != "Alice" {
		t.Errorf("From %s To %s", bye.From().Value(), bye.To().Value())
	}
	if v := bye.Via(); v.Host != "192.0.2.1" || v.Port != 5060 || !strings.HasPrefix(v.Params.GetOr("branch", ""), "z9hG4bK") {
		t.Errorf("Via %s", v.Value())
	}
	if bye.Contact() != nil {
		t.Error("BYE carries a Contact")
	}
	inv := d.Request(sip.INVITE, []byte("v=0\r\n"), "application/sdp")
	if inv.CSeq().SeqNo != 12 || inv.Contact() == nil || inv.ContentType().Value() != "application/sdp" {
		t.Errorf("re-INVITE:\n%s", inv)
	}
	ack := d.Ack(12, nil, "")
	if ack.CSeq().SeqNo != 12 || ack.CSeq().MethodName != sip.ACK || d.CSeq != 12 {
		t.Errorf("ACK CSeq %v, dialog at %d", ack.CSeq(), d.CSeq)
	}
	if ack.Via().Params.GetOr("branch", "") == inv.Via().Params.GetOr("branch", "") {
		t.Error("the 2xx ACK reuses the INVITE's branch")
	}
}

func TestLocalContact(t *testing.T) {
	if c := (Local{Transport: "UDP", Host: "192.0.2.1", Port: 5060}).Contact(); c.Value() != "<sip:192.0.2.1:5060>" {
		t.Errorf("UDP Contact %s", c.Value())
	}
	if c := (Local{Transport: "TCP", Host: "192.0.2.1", Port: 5060}).Contact(); c.Value() != "<sip:192.0.2.1:5060;transport=tcp>" {
		t.Errorf("TCP Contact %s", c.Value())
	}
}

func TestCancel(t *testing.T) {
	d := testDialog()
	inv := d.Request(sip.INVITE, nil, "")
	inv.SetDestination("198.51.100.5:5070")
	c := Cancel(inv)
	if c.Method != sip.CANCEL || c.Recipient.String() != inv.Recipient.String() {
		t.Fatalf("CANCEL %s", c.StartLine())
	}
	if c.Via().Value() != inv.Via().Value() || c.CSeq().SeqNo != inv.CSeq().SeqNo || c.CSeq().MethodName != sip.CANCEL {
		t.Errorf("CANCEL Via/CSeq %s / %s", c.Via().Value(), c.CSeq().Value())
	}
	if c.Destination() != "198.51.100.5:5070" || c.Route() == nil {
		t.Errorf("CANCEL goes to %s, Route %v", c.Destination(), c.Route())
	}
}

func TestRouteSet(t *testing.T) {
	msg := "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n" +
		"Record-Route: <sip:p3.example;lr>\r\n" +
		"Record-Route: <sip:p2.example;lr>, <sip:p1.example;lr>\r\n" +
		"From: <sip:alice@192.0.2.1>;tag=lt\r\n" +
		"To: \"Bob\" <sip:bob@carrier.example>;tag=rt\r\n" +
		"Call-ID: cid-1\r\n" +
		"CSeq: 7 INVITE\r\n" +
		"Contact: <sip:bob@198.51.100.5:5070>\r\n" +
		"Content-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	res := m.(*sip.Response)
	var hosts []string
	for _, u := range RouteSet(res) {
		hosts = append(hosts, u.Host)
	}
	if strings.Join(hosts, ",") != "p1.example,p2.example,p3.example" {
		t.Fatalf("route set %v, want the Record-Route reversed", hosts)
	}
	d := DialogFromResponse(res, Local{Transport: "UDP", Host: "192.0.2.1", Port: 5060})
	if d.CallID != "cid-1" || d.LocalTag != "lt" || d.RemoteTag != "rt" || d.CSeq != 7 ||
		d.RemoteTarget.Host != "198.51.100.5" || d.RemoteName != "Bob" {
		t.Fatalf("dialog %+v", d)
	}
	bye := d.Request(sip.BYE, nil, "")
	if bye.CSeq().SeqNo != 8 || bye.Route().Address.Host != "p1.example" {
		t.Errorf("BYE:\n%s", bye)
	}
}
