package stateful

import (
	"os"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/config"
)

// TestReadmeNamesTheToolsStateLocation: a person running the root by hand
// with another bucket or key would keep a second state of the same
// resources, and the next `bootstrap data` would try to create them again.
func TestReadmeNamesTheToolsStateLocation(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	p := config.Builtin("production")
	for _, want := range []string{
		"bucket=" + p.StateBucketName("$account"),
		`key=` + p.StateKey(),
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("terraform/stateful/README.md does not say %q", want)
		}
	}
}
