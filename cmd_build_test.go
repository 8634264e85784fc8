package main

import (
	"fmt"
	"testing"
)

func TestBuildFlagValues(t *testing.T) {
	args := []string{"--no-cache", "-t", "a:1", "--tag=b", "--tag", "c", "-t=d", "--iidfile", "/x", "ctx"}
	if got := fmt.Sprint(flagValues(args, "tag", "t")); got != "[a:1 b c d]" {
		t.Errorf("tags %s", got)
	}
	if got := fmt.Sprint(flagValues(args, "iidfile", "")); got != "[/x]" {
		t.Errorf("iidfile %s", got)
	}
	dir, rest, err := buildHooksDirArg([]string{"--build-hooks-dir", "/h", "-t", "x", "."})
	if dir != "/h" || fmt.Sprint(rest) != "[-t x .]" || err != nil {
		t.Errorf("buildHooksDirArg: %q %q %v", dir, rest, err)
	}
	runtimes, rest := takeFlag([]string{"--runtime", "runc", "-t", "x", "--runtime=crun", "."}, "runtime")
	if fmt.Sprint(runtimes) != "[runc crun]" || fmt.Sprint(rest) != "[-t x .]" {
		t.Errorf("takeFlag: %q %q", runtimes, rest)
	}
	if got := shellWord("/a b/it's"); got != `'/a b/it'\''s'` {
		t.Errorf("shellWord: %s", got)
	}
	if _, _, err := buildHooksDirArg([]string{"--build-hooks-dir"}); err == nil {
		t.Error("--build-hooks-dir without a directory: want an error")
	}
}
