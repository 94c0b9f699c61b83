package curtois

import (
	"testing"
	"turno/scheduling/roster"
)

func TestDbgLR(t *testing.T) {
	m, _ := ReadFile(instancePath(7))
	roster.DebugLR(m, 300)
}
