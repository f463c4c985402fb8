package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestRunCommands(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{"no args", nil, 2, "", "Usage:"},
		{"help", []string{"help"}, 2, "", "trunkline route simulate"},
		{"--help", []string{"--help"}, 2, "", "Usage:"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"version", []string{"version"}, 0, "trunkline dev " + runtime.Version(), ""},
		{"version extra", []string{"version", "x"}, 2, "", "Usage:"},
		{"serve flags", []string{"serve", "--config", "x.yaml", "--data", "d", "--config-overwrite"}, 2, "", `"file":"x.yaml"`},
		{"serve unknown flag", []string{"serve", "--bogus"}, 2, "", "bogus"},
		{"serve extra argument", []string{"serve", "extra"}, 2, "", `unexpected argument "extra"`},
		{"route", []string{"route"}, 2, "", "route simulate"},
		{"route unknown", []string{"route", "list"}, 2, "", "route simulate"},
		{"simulate help", []string{"route", "simulate", "-h"}, 2, "", "--config"},
		{"script", []string{"script"}, 2, "", "script test"},
		{"script test missing file", []string{"script", "test", "a.lua"}, 1, "--- FAIL: a.lua", ""},
		{"script test no file", []string{"script", "test"}, 2, "", "no FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if !strings.Contains(out, tc.wantStdout) {
				t.Errorf("stdout %q lacks %q", out, tc.wantStdout)
			}
			if tc.wantStdout == "" && out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.Contains(errOut, tc.wantStderr) {
				t.Errorf("stderr %q lacks %q", errOut, tc.wantStderr)
			}
		})
	}
}
