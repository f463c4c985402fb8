package sbc

import (
	"log/slog"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives its tests: every
// server is shut down, and Shutdown must end all it started.
func TestMain(m *testing.M) {
	ConfigureProcess(slog.New(slog.DiscardHandler)) // sipgo's global logger, as main sets it
	goleak.VerifyTestMain(m)
}
