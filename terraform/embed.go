// Package terraform carries the Terraform roots inside the bootstrap binary,
// so that it runs from anywhere; the roots themselves (terraform/stateful/)
// are plain HCL that anyone can also run by hand.
package terraform

import (
	"embed"
	"io/fs"
)

// The lock file travels with the root: every init, by bootstrap or by hand,
// installs only a provider whose checksum it records.
//
//go:embed stateful/*.tf stateful/.terraform.lock.hcl
var roots embed.FS

// LockFile is the dependency lock file's name inside a root.
const LockFile = ".terraform.lock.hcl"

// Stateful is the data tier's root: its .tf files and its dependency lock
// file at the top of the FS.
func Stateful() fs.FS {
	sub, err := fs.Sub(roots, "stateful")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	return sub
}
