//go:build !race

package srtp

const raceEnabled = false
