package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestScriptTestExamples(t *testing.T) {
	files, err := filepath.Glob("../../scripts/examples/*.lua")
	if err != nil || len(files) != 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	code, out, errOut := runCLI(t, append([]string{"script", "test"}, files...)...)
	if code != 0 || out != "10 passed, 0 failed\n" {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestScriptTestFailures(t *testing.T) {
	code, out, _ := runCLI(t, "script", "test", "../../scripts/testdata/failing.lua",
		"../../scripts/testdata/compile_error.lua", "../../scripts/testdata/hook_overrun.lua")
	if code != exitFail {
		t.Errorf("exit %d, want %d", code, exitFail)
	}
	for _, want := range []string{
		"--- FAIL: test_eq_fails\n    ../../scripts/testdata/failing.lua:14: arithmetic: got 2, want 3\n",
		"--- FAIL: test_truthy_fails\n",
		"--- FAIL: test_overrun\n    ../../scripts/testdata/failing.lua:32: time budget exceeded (1s)\n",
		"--- FAIL: ../../scripts/testdata/compile_error.lua\n    ../../scripts/testdata/compile_error.lua:3: compile error",
		"--- FAIL: test_hook_overrun\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n1 passed, 7 failed\n") {
		t.Errorf("last line of %q, want \"1 passed, 7 failed\"", out)
	}
	if strings.Contains(out, "test_passes") {
		t.Errorf("passing test printed:\n%s", out)
	}
}
