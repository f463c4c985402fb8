// Command trunkline is the Trunkline appliance: a SIP B2BUA and session border
// controller. It is the only place that wires the packages together; DESIGN §2
// fixes its command line.
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"

	"github.com/trunkline/trunkline/scripts"

	_ "time/tzdata" // time windows name IANA zones; do not depend on the host's zoneinfo
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed
	exitUsage = 2 // bad command line or invalid configuration
)

const usageText = `Usage:
  trunkline serve [--config FILE] [--data DIR] [--config-overwrite]
  trunkline route simulate --config FILE --from N --to N [--trunk ID] [--username U]
                           [--header K=V]... [--at RFC3339] [--down TRUNK]... [--seed N] [--json]
  trunkline script test FILE...
  trunkline version

Run 'trunkline COMMAND -h' for the flags of one command.
`

// run is the whole command line: it parses args (without the program name),
// writes to stdout and stderr, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(rest, stderr)
	case "route":
		if len(rest) == 0 || rest[0] != "simulate" {
			return usageError(stderr, "route: want 'route simulate'")
		}
		return runSimulate(rest[1:], stdout, stderr)
	case "script":
		if len(rest) == 0 || rest[0] != "test" {
			return usageError(stderr, "script: want 'script test FILE...'")
		}
		return runScriptTest(rest[1:], stdout, stderr)
	case "version":
		if len(rest) != 0 {
			return usageError(stderr, "version takes no arguments")
		}
		fmt.Fprintf(stdout, "trunkline %s %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stderr, usageText)
		return exitUsage
	default:
		return usageError(stderr, fmt.Sprintf("unknown command %q", cmd))
	}
}

// usageError prints msg and the usage text, and returns the usage exit code.
func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "trunkline: %s\n\n%s", msg, usageText)
	return exitUsage
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints usage (the command's synopsis and its flags) to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage:\n  %s\n", synopsis)
		printFlags(stderr, fs)
	}
	return fs
}

// printFlags lists the flags of fs in the --name style the usage texts use.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nFlags:\n")
			first = false
		}
		arg, usage := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		fmt.Fprintf(w, "  --%s%s\n        %s\n", f.Name, arg, usage)
	})
}

// parseFlags parses args into fs. It returns false when parsing failed or help
// was asked for; the flag package has then printed the message and the usage.
func parseFlags(fs *flag.FlagSet, args []string) bool {
	return fs.Parse(args) == nil
}

const serveSynopsis = "trunkline serve [--config FILE] [--data DIR] [--config-overwrite]"

// serveOptions are the flags of `trunkline serve`.
type serveOptions struct {
	configPath string // YAML file seeding an empty store; "" = embedded default
	dataDir    string // overrides node.dataDir when not ""
	overwrite  bool   // import configPath even when the store holds config
}

// runServe parses the flags of `trunkline serve` and runs the appliance.
func runServe(args []string, stderr io.Writer) int {
	var opts serveOptions
	fs := newFlagSet("serve", serveSynopsis, stderr)
	fs.StringVar(&opts.configPath, "config", "", "YAML `file` that seeds an empty store (default: the embedded default)")
	fs.StringVar(&opts.dataDir, "data", "", "data `dir`ectory; overrides node.dataDir")
	fs.BoolVar(&opts.overwrite, "config-overwrite", false, "import --config even when the store already holds config")
	if !parseFlags(fs, args) {
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "trunkline serve: unexpected argument %q\n\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	return serve(opts, stderr)
}

// serve runs the appliance until it is told to stop.
func serve(opts serveOptions, stderr io.Writer) int {
	return runAppliance(opts.configPath, opts.dataDir, opts.overwrite, stderr)
}

const scriptTestSynopsis = "trunkline script test FILE..."

// runScriptTest runs the test_* functions of Lua script files: failures and
// the summary go to stdout, tl.log output to stderr.
func runScriptTest(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("script test", scriptTestSynopsis, stderr)
	if !parseFlags(fs, args) {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, "trunkline script test: no FILE given\n\n")
		fs.Usage()
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sum := scripts.RunTestFiles(stdout, fs.Args(), scripts.Options{Logger: logger})
	if sum.Failed > 0 {
		return exitFail
	}
	return exitOK
}
