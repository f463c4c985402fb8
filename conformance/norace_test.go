//go:build !race

package conformance

// raceEnabled: the tests run with -race, and trunkline is built with it too.
const raceEnabled = false
