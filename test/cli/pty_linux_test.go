//go:build linux

package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: what the program writes to the
// slave, as to a user's terminal, is read from the master.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("reading the pseudo-terminal's number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("opening /dev/pts/%d: %v", n, err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// startOnTerminal is start with stderr on a pseudo-terminal, as a user's
// shell runs it: bootstrap then draws its spinner. What it writes there is
// collected in p.stderr.
func startOnTerminal(t *testing.T, name, bin, dir string, args ...string) *process {
	t.Helper()
	master, slave := openPTY(t)
	p := newProcess(t, name, bin, dir, args...)
	p.cmd.Stderr = slave
	p.drained = make(chan struct{})
	go func() {
		defer close(p.drained)
		// Reading ends with EIO once every copy of the slave is closed:
		// after the exit, so the run's last lines are in p.stderr before
		// p.done closes.
		_, err := io.Copy(p.stderr, master)
		if err != nil && !errors.Is(err, syscall.EIO) && !errors.Is(err, os.ErrClosed) {
			t.Logf("reading run %s's terminal: %v", name, err)
		}
	}()
	p.run(t, args)
	slave.Close() // the child has its own copy
	return p
}
