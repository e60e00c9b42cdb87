package tfdriver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A second Ctrl-C must kill Terraform at once. terraform-exec stops it on
// the first (the context's cancellation sends SIGINT, then it waits up to
// the WaitDelay for Terraform to release its state lock and exit), but it
// exposes no handle on the process. It does start Terraform as the leader
// of a process group of its own (tfexec/cmd_linux.go: Setpgid), which also
// holds the provider plugins Terraform starts. So on the second interrupt
// the driver finds the Terraform processes this process started, by parent
// pid and executable, and kills each one's whole group.

// killChildren sends SIGKILL to the process group of every child of this
// process running exe, and returns how many it killed.
func killChildren(exe string) (int, error) {
	want := []string{exe}
	if real, err := filepath.EvalSymlinks(exe); err == nil && real != exe {
		want = append(want, real)
	}
	pids, err := children(os.Getpid(), want)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, pid := range pids {
		// The child leads its own group (Setpgid): -pid is that group.
		if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("killing terraform (pid %d): %w", pid, err))
		}
	}
	return len(pids), errors.Join(errs...)
}

// children lists the pids of the processes whose parent is ppid and which
// run exe (any of its names), read from /proc where there is one and from
// ps(1) elsewhere (macOS). A terraform that is a script (the shims of tfenv
// and asdf are) runs as its interpreter with the script's path as the first
// argument, so that counts too.
func children(ppid int, exe []string) ([]int, error) {
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		return procChildren(ppid, exe)
	}
	return psChildren(ppid, exe)
}

func procChildren(ppid int, exe []string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses,
		// so read after the last ')'.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(ppid) {
			continue
		}
		names := []string{}
		if path, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil {
			names = append(names, strings.TrimSuffix(path, " (deleted)"))
		}
		if cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil {
			args := strings.Split(string(cmdline), "\x00")
			if len(args) > 2 {
				args = args[:2]
			}
			names = append(names, args...)
		}
		if anyOf(names, exe) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// anyOf reports whether any of names is one of want.
func anyOf(names, want []string) bool {
	for _, n := range names {
		for _, w := range want {
			if n != "" && n == w {
				return true
			}
		}
	}
	return false
}
