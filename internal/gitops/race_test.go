//go:build race

package gitops

// raceEnabled: timing reports are meaningless under the race detector.
const raceEnabled = true
