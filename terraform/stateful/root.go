// Package stateful is the data tier's Terraform root as bootstrap uses it:
// the root itself (the .tf files beside this one and their dependency lock
// file), embedded so that the binary runs from anywhere, and the contract of
// its outputs (outputs.go, beside outputs.tf). The root is plain HCL that
// anyone can also run by hand; terraform reads no .go file. The driver that
// runs Terraform is internal/tfdriver.
package stateful

import (
	"embed"
	"io/fs"
)

// The lock file travels with the root: every init, by bootstrap or by hand,
// installs only a provider whose checksum it records.
//
//go:embed *.tf .terraform.lock.hcl
var root embed.FS

// LockFile is the dependency lock file's name inside a root.
const LockFile = ".terraform.lock.hcl"

// Root is the data tier's root: its .tf files and its dependency lock file
// at the top of the FS.
func Root() fs.FS { return root }
