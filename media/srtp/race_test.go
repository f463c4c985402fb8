//go:build race

package srtp

const raceEnabled = true
