package doctor

import (
	"regexp"
	"strings"
	"time"

	"github.com/remainroot/remainroot/config"
)

// The podman check: its version, the containers.conf it reads and the
// runtime it picks.

const checkPodman = "podman: version"

var podmanVersionRE = regexp.MustCompile(`version (\d+\.\d+\.\d+\S*)`)

func podmanCheck(o Options, conf config.ContainersConf, confErr error) Check {
	if o.Podman == "" {
		return Warning(checkPodman, "Install podman (apt-get install podman) to run containers; remainroot run and attach work without it.", "podman not found in PATH")
	}
	out, err := runOutput(30*time.Second, o.Podman, "--version")
	if err != nil {
		return Failure(checkPodman, "Reinstall podman.", "%v", err)
	}
	v := strings.TrimSpace(out)
	if m := podmanVersionRE.FindStringSubmatch(out); m != nil {
		v = m[1]
	}
	if confErr != nil {
		return Failure(checkPodman, "Fix the file: podman refuses to start with it.", "podman %s (%s); containers.conf: %v", v, o.Podman, confErr)
	}
	files := "no containers.conf"
	if len(conf.Files) > 0 {
		files = "containers.conf: " + strings.Join(conf.Files, ", ")
	}
	rt := "its default runtime"
	if conf.Runtime != "" {
		rt = "runtime " + conf.Runtime
	}
	return Pass(checkPodman, "podman %s (%s), %s, %s", v, o.Podman, rt, files)
}
