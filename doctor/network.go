package doctor

import (
	"errors"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/config"
)

// The rootless network check: /dev/net/tun and a network helper.

const checkNetwork = "podman: rootless network"

func networkCheck(conf config.ContainersConf) Check {
	helper := conf.RootlessNetCmd
	var found []string
	for _, h := range []string{"pasta", "slirp4netns"} {
		if _, err := exec.LookPath(h); err == nil {
			found = append(found, h)
		}
	}
	helpers := "no pasta or slirp4netns in PATH"
	if len(found) > 0 {
		helpers = strings.Join(found, " and ") + " found"
	}
	if helper != "" {
		helpers += ", default_rootless_network_cmd " + helper
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return Warning(checkNetwork, "Run rootless containers with --network=host or --network=none.",
			"/dev/net/tun: %v: the default rootless network (slirp4netns or pasta) fails; %s", errors.Unwrap(err), helpers)
	}
	f.Close()
	if len(found) == 0 {
		return Warning(checkNetwork, "Install slirp4netns or passt, or run with --network=host or --network=none.", "/dev/net/tun is accessible but %s", helpers)
	}
	return Pass(checkNetwork, "/dev/net/tun is accessible, %s", helpers)
}
