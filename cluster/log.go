package cluster

import (
	"context"
	"io"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// hclogSink forwards what raft logs through hclog to the node's slog.Logger.
type hclogSink struct{ log *slog.Logger }

func (s hclogSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	var l slog.Level
	switch {
	case level <= hclog.Debug:
		l = slog.LevelDebug
	case level == hclog.Info:
		l = slog.LevelInfo
	case level == hclog.Warn:
		l = slog.LevelWarn
	default:
		l = slog.LevelError
	}
	ctx := context.Background()
	if !s.log.Enabled(ctx, l) {
		return
	}
	if name != "" {
		args = append(args, "component", name)
	}
	s.log.Log(ctx, l, msg, args...)
}

// newHCLogger returns an hclog.Logger for raft that writes to log.
func newHCLogger(log *slog.Logger) hclog.Logger {
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "raft", Output: io.Discard, Level: hclog.Off})
	l.RegisterSink(hclogSink{log: log})
	return l
}
