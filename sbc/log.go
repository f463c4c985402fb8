package sbc

import (
	"context"
	"log/slog"

	"github.com/emiago/sipgo/sip"
)

// sipgoLogger is the logger handed to sipgo's layers. sipgo logs what peers
// do wrong (an unparsable packet, with its bytes, at ERROR) as its own
// errors; a peer could flood the log that way. Its records are kept at DEBUG,
// tagged lib=sipgo; what matters to an operator the server logs and counts
// itself.
func sipgoLogger(log *slog.Logger) *slog.Logger {
	return slog.New(debugHandler{log.Handler()}).With("lib", "sipgo")
}

// ConfigureProcess sets what sipgo keeps process-wide: its default logger,
// which it uses where it has no per-layer logger (connection reference
// counts, lazy header parsing), becomes log with sipgo's records at DEBUG.
// Call it once from main, before any Server starts.
func ConfigureProcess(log *slog.Logger) {
	sip.SetDefaultLogger(sipgoLogger(log))
	// sipgo refuses to send any UDP message above UDPMTUSize-200 bytes,
	// responses included, so a large request could not even be answered.
	// Requests we build move to TCP themselves above mtuLimit (RFC 3261
	// §18.1.1); responses go back on the request's transport (§18.2.2), so
	// allow any datagram size.
	sip.UDPMTUSize = maxUDPPayload + 200
}

// maxUDPPayload is the largest UDP payload over IPv4.
const maxUDPPayload = 65507

// debugHandler passes every record on at DEBUG level, noting the level it
// was logged at.
type debugHandler struct{ next slog.Handler }

func (h debugHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return h.next.Enabled(ctx, slog.LevelDebug)
}

func (h debugHandler) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(slog.String("sipgoLevel", r.Level.String()))
	r.Level = slog.LevelDebug
	return h.next.Handle(ctx, r)
}

func (h debugHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return debugHandler{h.next.WithAttrs(attrs)}
}

func (h debugHandler) WithGroup(name string) slog.Handler {
	return debugHandler{h.next.WithGroup(name)}
}
