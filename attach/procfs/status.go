package procfs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/remainroot/remainroot/shim"
)

// RealCreds reads a thread's kernel credentials from /proc/TID/status: the
// state emulation starts from. Securebits are not shown there and are taken
// as 0.
func RealCreds(tid int) (shim.Creds, error) { return RealCredsMapped(tid, NewIDMapper(tid)) }

// RealCredsMapped is realCreds with the thread's id mapper known (the
// tracer's cache: Tracer.mapper), for the frequent reads of threads that
// are not attached.
func RealCredsMapped(tid int, m IDMapper) (shim.Creds, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return shim.Creds{}, fmt.Errorf("read credentials: %w", err)
	}
	c, err := ParseStatus(data)
	if err != nil {
		return c, err
	}
	return toTraceeNamespace(m, c), nil
}

// toTraceeNamespace rewrites ids that /proc showed in the tracer's user
// namespace into the ids the thread itself sees (m: the thread's mapper).
func toTraceeNamespace(m IDMapper, c shim.Creds) shim.Creds {
	if m.Same {
		return c
	}
	for _, p := range []*uint32{&c.UID, &c.EUID, &c.SUID, &c.FSUID} {
		*p = m.UID(*p)
	}
	for _, p := range []*uint32{&c.GID, &c.EGID, &c.SGID, &c.FSGID} {
		*p = m.GID(*p)
	}
	groups := make([]uint32, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = m.GID(g)
	}
	if len(groups) > 0 {
		slices.Sort(groups)
		c.Groups = groups
	}
	return c
}

// ParseStatus reads the credential lines of a /proc/TID/status text (Uid,
// Gid, Groups and the five capability sets) as the tracer sees them.
func ParseStatus(data []byte) (shim.Creds, error) {
	var c shim.Creds
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		ids := func(dst ...*uint32) error {
			if len(fields) != len(dst) {
				return fmt.Errorf("status %s: want %d ids, got %q", key, len(dst), val)
			}
			for i, f := range fields {
				v, err := strconv.ParseUint(f, 10, 32)
				if err != nil {
					return fmt.Errorf("status %s: %w", key, err)
				}
				*dst[i] = uint32(v)
			}
			seen++
			return nil
		}
		capset := func(dst *shim.CapSet) error {
			v, err := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
			if err != nil {
				return fmt.Errorf("status %s: %w", key, err)
			}
			*dst = shim.CapSet(v)
			seen++
			return nil
		}
		var err error
		switch key {
		case "Uid":
			err = ids(&c.UID, &c.EUID, &c.SUID, &c.FSUID)
		case "Gid":
			err = ids(&c.GID, &c.EGID, &c.SGID, &c.FSGID)
		case "Groups":
			c.Groups = make([]uint32, len(fields))
			ptrs := make([]*uint32, len(fields))
			for i := range ptrs {
				ptrs[i] = &c.Groups[i]
			}
			err = ids(ptrs...)
		case "CapInh":
			err = capset(&c.Caps.Inheritable)
		case "CapPrm":
			err = capset(&c.Caps.Permitted)
		case "CapEff":
			err = capset(&c.Caps.Effective)
		case "CapBnd":
			err = capset(&c.Caps.Bounding)
		case "CapAmb":
			err = capset(&c.Caps.Ambient)
		}
		if err != nil {
			return shim.Creds{}, err
		}
	}
	if seen != 8 {
		return shim.Creds{}, fmt.Errorf("status: found %d of 8 credential lines", seen)
	}
	if len(c.Groups) == 0 {
		c.Groups = nil
	}
	return c, nil
}

// StatusField returns one field of /proc/TID/status ("NoNewPrivs", ...).
func StatusField(tid int, name string) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("/proc/%d/status has no %s", tid, name)
}

// TaskIDs lists the threads of process pid.
func TaskIDs(pid int) ([]int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	var tids []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, n)
		}
	}
	return tids, nil
}

// VDSORange returns the address range of the [vdso] mapping of tid.
func VDSORange(tid int) (start, end uint64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", tid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasSuffix(line, "[vdso]") {
			continue
		}
		r, _, _ := strings.Cut(line, " ")
		a, b, _ := strings.Cut(r, "-")
		s, err1 := strconv.ParseUint(a, 16, 64)
		e, err2 := strconv.ParseUint(b, 16, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("parse maps line %q", line)
		}
		return s, e, nil
	}
	return 0, 0, fmt.Errorf("/proc/%d/maps has no [vdso]", tid)
}

// CapLastCap reads /proc/sys/kernel/cap_last_cap.
func CapLastCap() (uint, error) {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 8)
	return uint(v), err
}
