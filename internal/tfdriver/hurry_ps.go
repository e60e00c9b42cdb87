package tfdriver

import (
	"os/exec"
	"strconv"
	"strings"
)

// psChildren is children for systems without /proc: ps prints each
// process's pid, parent and command line.
func psChildren(ppid int, exe []string) ([]int, error) {
	out, err := exec.Command("ps", "-A", "-o", "pid=,ppid=,args=").Output()
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != strconv.Itoa(ppid) {
			continue
		}
		args := f[2:]
		if len(args) > 2 {
			args = args[:2]
		}
		if !anyOf(args, exe) {
			continue
		}
		if pid, err := strconv.Atoi(f[0]); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
