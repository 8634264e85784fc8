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
	if _, _, err := buildHooksDirArg([]string{"--build-hooks-dir"}); err == nil {
		t.Error("--build-hooks-dir without a directory: want an error")
	}
}
