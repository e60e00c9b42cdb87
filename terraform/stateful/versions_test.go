package stateful

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"

	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// TestMinVersionIsRequiredVersion keeps tfdriver.MinVersion, the oldest
// Terraform bootstrap lets BOOTSTRAP_TERRAFORM choose, equal to the root's
// own required_version (versions.tf, as embedded), so that bootstrap refuses
// exactly the releases Terraform's init would refuse: the constraint must be
// a single ">= MinVersion", and Terraform's reading of it and
// tfdriver.AtLeastMin agree on releases around the limit, final and
// pre-release. Terraform's reading is hashicorp/go-version's
// Constraints.Check applied to the version core: hashicorp/terraform's
// internal/configs/module.go CheckCoreVersionRequirements checks
// version.SemVer, which version/version.go makes from the release without
// its pre-release ("Prerelease versions of terraform will match
// constraints using their version core only"). testenv's minimum, which tests look for, is the
// same.
func TestMinVersionIsRequiredVersion(t *testing.T) {
	t.Parallel()
	src, err := fs.ReadFile(Root(), "versions.tf")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*required_version\s*=\s*"([^"]*)"`).FindAllSubmatch(src, -1)
	if len(m) != 1 {
		t.Fatalf("versions.tf has %d required_version settings, want 1", len(m))
	}
	required := string(m[0][1])
	cs, err := version.NewConstraint(required)
	if err != nil {
		t.Fatalf("required_version %q: %v", required, err)
	}
	lower, ok := strings.CutPrefix(strings.TrimSpace(required), ">=")
	if len(cs) != 1 || !ok {
		t.Fatalf("required_version %q is not a single >= constraint: bootstrap's check (tfdriver.AtLeastMin) knows only a minimum", required)
	}
	min, err := version.NewVersion(strings.TrimSpace(lower))
	if err != nil {
		t.Fatal(err)
	}
	if !min.Equal(tfdriver.MinVersion) {
		t.Errorf("versions.tf requires %q, tfdriver.MinVersion is %s: keep them equal", required, tfdriver.MinVersion)
	}
	if v := version.Must(version.NewVersion(testenv.MinTerraformVersion)); !v.Equal(tfdriver.MinVersion) {
		t.Errorf("testenv.MinTerraformVersion is %s, tfdriver.MinVersion %s: keep them equal", v, tfdriver.MinVersion)
	}
	// Releases around the limit: the last of the minor before (or an old
	// 0.x), the limit, the pinned release, the next minor and major.
	segs := tfdriver.MinVersion.Segments()
	below := "0.15.5"
	if segs[1] > 0 {
		below = fmt.Sprintf("%d.%d.99", segs[0], segs[1]-1)
	}
	var releases []string
	for _, s := range []string{below, tfdriver.MinVersion.String(), tfdriver.PinnedVersion.String(),
		fmt.Sprintf("%d.%d.0", segs[0], segs[1]+1), fmt.Sprintf("%d.0.0", segs[0]+1)} {
		releases = append(releases, s, s+"-alpha20250101", s+"-beta1", s+"-rc2", s+"-dev")
	}
	for _, s := range releases {
		v := version.Must(version.NewVersion(s))
		if got, want := tfdriver.AtLeastMin(v), cs.Check(v.Core()); got != want {
			t.Errorf("Terraform %s: required_version %q says %t, tfdriver.AtLeastMin %t", v, required, want, got)
		}
	}
	if !cs.Check(tfdriver.PinnedVersion) {
		t.Errorf("the pinned Terraform %s does not meet required_version %q", tfdriver.PinnedVersion, required)
	}
}
