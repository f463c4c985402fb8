// Package trunkline_test holds tests of the project as a whole.
package trunkline_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/trunkline/trunkline"

// deps returns the non-standard packages pkg depends on, transitively.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var ds []string
	for _, d := range strings.Fields(string(out)) {
		if d != pkg {
			ds = append(ds, d)
		}
	}
	return ds
}

// TestImportRules enforces the dependency arrows of the design: config and
// routing are leaves, only sbc talks SIP, api never reaches into sbc, cluster
// never into sbc or api, scripts only into config and routing, media stays
// free of routing and config.
func TestImportRules(t *testing.T) {
	rules := []struct {
		pkgs    string
		allowed func(dep string) bool
		what    string
	}{
		{module + "/config/...", func(d string) bool { return d == "gopkg.in/yaml.v3" || strings.HasPrefix(d, module+"/config") },
			"config imports only the standard library and yaml"},
		{module + "/routing/...", func(d string) bool {
			return d == "gopkg.in/yaml.v3" || strings.HasPrefix(d, module+"/config") || strings.HasPrefix(d, module+"/routing")
		}, "routing imports only the standard library and config"},
		{module + "/api/...", func(d string) bool { return !strings.HasPrefix(d, module+"/sbc") && !strings.Contains(d, "sipgo") },
			"api never imports sbc or sipgo"},
		{module + "/cluster/...", func(d string) bool {
			return !strings.HasPrefix(d, module+"/sbc") && !strings.HasPrefix(d, module+"/api")
		}, "cluster never imports sbc or api"},
		{module + "/scripts/...", func(d string) bool {
			return !strings.HasPrefix(d, module+"/sbc") && !strings.HasPrefix(d, module+"/api") &&
				!strings.HasPrefix(d, module+"/cluster") && !strings.HasPrefix(d, module+"/media")
		}, "scripts imports only config and routing of ours"},
		{module + "/media/...", func(d string) bool {
			return !strings.HasPrefix(d, module+"/sbc") && !strings.HasPrefix(d, module+"/routing") && !strings.HasPrefix(d, module+"/config")
		}, "media never imports sbc, routing or config"},
	}
	for _, r := range rules {
		for _, pkg := range listIfAny(t, r.pkgs) {
			for _, d := range deps(t, pkg) {
				if !r.allowed(d) {
					t.Errorf("%s imports %s: %s", pkg, d, r.what)
				}
			}
		}
	}
	// Only sbc talks SIP: no other package imports sipgo directly.
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], module+"/sbc") {
			continue
		}
		for _, d := range f[1:] {
			if strings.HasPrefix(d, "github.com/emiago/sipgo") {
				t.Errorf("%s imports %s: only sbc may import sipgo", f[0], d)
			}
		}
	}
}

// listIfAny lists the packages of pattern, or none when the tree has no such
// directory yet.
func listIfAny(t *testing.T, pattern string) []string {
	out, err := exec.Command("go", "list", "-e", "-f", "{{if not .Error}}{{.ImportPath}}{{end}}", pattern).Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}
