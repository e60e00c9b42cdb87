// Package terraform carries the Terraform roots inside the bootstrap binary,
// so that it runs from anywhere; the roots themselves (terraform/stateful/)
// are plain HCL that anyone can also run by hand.
package terraform

import (
	"embed"
	"io/fs"
)

//go:embed stateful/*.tf
var roots embed.FS

// Stateful is the data tier's root: its .tf files at the top of the FS.
func Stateful() fs.FS {
	sub, err := fs.Sub(roots, "stateful")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	return sub
}
