package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/hashicorp/go-hclog"
)

// hclogSink forwards what raft logs through hclog to the node's slog.Logger.
type hclogSink struct{ log *slog.Logger }

func (s hclogSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	for i, a := range args {
		if f, ok := a.(hclog.Format); ok && len(f) > 0 {
			if format, ok := f[0].(string); ok {
				args[i] = fmt.Sprintf(format, f[1:]...)
			}
		}
		// A peer's connection closed as the node stops: not an error.
		if err, ok := a.(error); ok && level >= hclog.Error && errors.Is(err, net.ErrClosed) {
			level = hclog.Debug
		}
	}
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
		args = append(args, "subsystem", name) // the node's logger names the component
	}
	s.log.Log(ctx, l, msg, args...)
}

// newHCLogger returns an hclog.Logger for raft that writes to log.
func newHCLogger(log *slog.Logger) hclog.Logger {
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "raft", Output: io.Discard, Level: hclog.Off})
	l.RegisterSink(hclogSink{log: log})
	return l
}
