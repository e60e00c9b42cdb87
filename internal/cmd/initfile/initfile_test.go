package initfile

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
)

// TestWrittenFileLoadsBackToBuiltins: a file a user gets from `bootstrap
// init` behaves as no file did. Since a file's environments start protected
// whatever their names (config.FileBase), that holds only because init
// writes staging's protection-off keys out; the test fails if they go.
func TestWrittenFileLoadsBackToBuiltins(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	var out bytes.Buffer
	f := &factory.Factory{IO: &factory.IOStreams{Out: &out, ErrOut: &out}}
	if err := run(f, &Options{Path: path}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "# Protection off, by these keys alone") {
		t.Errorf("the written file does not explain staging's protection-off keys:\n%s", data)
	}
	loaded, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := config.Validate(loaded, time.Now()); err != nil {
		t.Errorf("the written file does not validate: %v", err)
	}
	want := config.BuiltinFile()
	if len(loaded.Environments) != len(want.Environments) {
		t.Fatalf("loaded %d environments, want %d", len(loaded.Environments), len(want.Environments))
	}
	for name, w := range want.Environments {
		got := loaded.Environments[name]
		if !reflect.DeepEqual(got, w) {
			t.Errorf("environment %s loads back as\n%+v\nwant the built-in\n%+v", name, got, w)
		}
	}
	// The profiles differ in protection, so the comparison above covers it;
	// say so, so that a change making both protected shows here.
	if want.Environments["staging"].Protected() || !want.Environments["production"].Protected() {
		t.Fatalf("built-in profiles changed: staging protected %t, production protected %t",
			want.Environments["staging"].Protected(), want.Environments["production"].Protected())
	}
}

func TestProtectionComments(t *testing.T) {
	t.Parallel()
	off := "  a:\n    protection:\n      deletionProtection: false\n      finalSnapshot: false\n      typedConfirmation: false\n    redis: {}\n"
	on := "  b:\n    protection:\n      deletionProtection: true\n      finalSnapshot: false\n      typedConfirmation: false\n"
	got := ProtectionComments(off + on)
	if n := strings.Count(got, "# Protection off"); n != 1 {
		t.Errorf("want the comment once, above a's all-off block only; got %d in\n%s", n, got)
	}
	if !strings.HasPrefix(got, "  a:\n    # Protection off") {
		t.Errorf("the comment is not above a's protection: key, at its indent:\n%s", got)
	}
	if !strings.HasSuffix(got, on) {
		t.Errorf("b's partly-on block changed:\n%s", got)
	}
}
