// Package sipvectors loads, for tests, the SIP torture messages of RFC 4475
// and RFC 5118 from the project's shared test data, which lives beside the
// repository (<repo>/../shared/testdata/sip-torture) and is not copied into
// it, so that the vectors have one home.
package sipvectors

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Dir is where the vectors are, relative to an ancestor of the repository.
const Dir = "shared/testdata/sip-torture"

// Vector is one message of the manifest, with what a B2BUA must do with it.
type Vector struct {
	File     string // relative to Dir, e.g. "rfc5118/ipv6-bad.dat"
	Validity string // "valid" or "invalid"
	Expected string // what an element must do, in words, with the codes it may answer
	Policy   string // must-answer, must-reject, reject-or-lenient, response
	Section  string
	SHA256   string
	Data     []byte // the message, byte-exact
}

// Load finds the manifest in the first ancestor of this package's source
// directory that has it, and reads every file it names, checking each
// file's SHA-256. A missing manifest is an error: the vectors are part of
// the test contract.
func Load() ([]Vector, error) {
	dir, err := find()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cols map[string]int
	var out []Vector
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, name := range fields {
				cols[name] = i
			}
			for _, need := range []string{"file", "validity", "expected", "policy", "section", "sha256"} {
				if _, ok := cols[need]; !ok {
					return nil, fmt.Errorf("manifest.tsv has no %q column", need)
				}
			}
			continue
		}
		if len(fields) < len(cols) {
			return nil, fmt.Errorf("manifest.tsv: short line %q", sc.Text())
		}
		v := Vector{
			File: fields[cols["file"]], Validity: fields[cols["validity"]],
			Expected: fields[cols["expected"]], Policy: fields[cols["policy"]],
			Section: fields[cols["section"]], SHA256: fields[cols["sha256"]],
		}
		if v.Data, err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(v.File))); err != nil {
			return nil, err
		}
		if sum := sha256.Sum256(v.Data); hex.EncodeToString(sum[:]) != v.SHA256 {
			return nil, fmt.Errorf("%s: SHA-256 %x, manifest says %s", v.File, sum, v.SHA256)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("manifest.tsv lists no file")
	}
	return out, nil
}

// find walks up from this source file's directory to the first ancestor
// holding Dir/manifest.tsv.
func find() (string, error) {
	_, src, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("runtime.Caller: no source file location; cannot find the SIP torture vectors")
	}
	for d := filepath.Dir(src); ; {
		cand := filepath.Join(d, Dir)
		if _, err := os.Stat(filepath.Join(cand, "manifest.tsv")); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("SIP torture vectors not found: no ancestor of %s has %s/manifest.tsv "+
				"(clone the shared test data beside the repository: <repo>/../shared/testdata)", filepath.Dir(src), Dir)
		}
		d = parent
	}
}
