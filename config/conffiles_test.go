package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestContainersConfFilesOrder(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	share := write(t, root+"/usr/share/containers/containers.conf", "")
	etc := write(t, root+"/etc/containers/containers.conf", "")
	drop2 := write(t, root+"/etc/containers/containers.conf.d/20-b.conf", "")
	drop1 := write(t, root+"/etc/containers/containers.conf.d/10-a.conf", "")
	write(t, root+"/etc/containers/containers.conf.d/ignored.txt", "")
	user := write(t, home+"/.config/containers/containers.conf", "")

	p := ConfPlaces{Rootless: true, Home: home, Root: root}
	if got, want := p.ContainersConfFiles(), []string{share, etc, drop1, drop2, user}; !slices.Equal(got, want) {
		t.Errorf("rootless: %q, want %q", got, want)
	}
	p.Rootless = false
	if got, want := p.ContainersConfFiles(), []string{share, etc, drop1, drop2}; !slices.Equal(got, want) {
		t.Errorf("root: %q, want %q", got, want)
	}
	p.ContainersConf, p.ConfOverride = "/x/only.conf", "/x/over.conf"
	if got, want := p.ContainersConfFiles(), []string{"/x/only.conf", "/x/over.conf"}; !slices.Equal(got, want) {
		t.Errorf("CONTAINERS_CONF: %q, want %q", got, want)
	}
	xdg := ConfPlaces{Rootless: true, Home: home, XDGConfigHome: root + "/xdg", Root: root}
	x := write(t, root+"/xdg/containers/containers.conf", "")
	if got := xdg.ContainersConfFiles(); got[len(got)-1] != x {
		t.Errorf("XDG_CONFIG_HOME: %q, want %s last", got, x)
	}
}

func TestReadContainersConf(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir+"/a.conf", `
[engine]
runtime = "runc"
hooks_dir = [
  "/etc/containers/oci/hooks.d",  # trailing comment
]
[engine.runtimes]
crun = ["/opt/crun"]
`)
	b := write(t, dir+"/b.conf", `
[engine]
hooks_dir = ["/opt/hooks.d", {append=true}]
[network]
default_rootless_network_cmd = "pasta"
`)
	none := write(t, dir+"/none.conf", "[containers]\nlog_driver = \"k8s-file\"\n")

	c, err := ReadContainersConf([]string{none})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.HooksDirs, DefaultHooksDirs) || c.HooksDirsFrom != "" || c.Runtime != "" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = ReadContainersConf([]string{a})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.HooksDirs, []string{"/etc/containers/oci/hooks.d"}) || c.HooksDirsFrom != a || c.Runtime != "runc" ||
		!slices.Equal(c.RuntimePaths["crun"], []string{"/opt/crun"}) {
		t.Errorf("a: %+v", c)
	}
	c, err = ReadContainersConf([]string{a, b, none})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.HooksDirs, []string{"/etc/containers/oci/hooks.d", "/opt/hooks.d"}) || c.HooksDirsFrom != b ||
		c.Runtime != "runc" || c.RuntimeFrom != a || c.RootlessNetCmd != "pasta" {
		t.Errorf("a, b: %+v", c)
	}
	empty := write(t, dir+"/empty.conf", "[engine]\nhooks_dir = []\n")
	if c, err = ReadContainersConf([]string{a, empty}); err != nil || len(c.HooksDirs) != 0 || c.HooksDirsFrom != empty {
		t.Errorf("empty hooks_dir: %+v %v", c, err)
	}

	bad := write(t, dir+"/bad.conf", "[engine\nhooks_dir = 1\n")
	if _, err := ReadContainersConf([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("malformed: %v", err)
	}
	if _, err := ReadContainersConf([]string{dir + "/missing.conf"}); err == nil {
		t.Error("missing file accepted")
	}
	wrong := write(t, dir+"/wrong.conf", "[engine]\nhooks_dir = [{append=true}, \"/x\"]\n")
	if _, err := ReadContainersConf([]string{wrong}); err == nil {
		t.Error("append table not last accepted")
	}
}

func TestStorageConfFile(t *testing.T) {
	root := t.TempDir()
	home := root + "/home"
	p := ConfPlaces{Rootless: true, Home: home, Root: root}
	if f := p.StorageConfFile(); f != "" {
		t.Errorf("none: %q", f)
	}
	share := write(t, root+"/usr/share/containers/storage.conf", "")
	if f := p.StorageConfFile(); f != share {
		t.Errorf("share: %q", f)
	}
	etc := write(t, root+"/etc/containers/storage.conf", "")
	if f := p.StorageConfFile(); f != etc {
		t.Errorf("etc: %q", f)
	}
	user := write(t, home+"/.config/containers/storage.conf", "")
	if f := p.StorageConfFile(); f != user {
		t.Errorf("user: %q", f)
	}
	p.Rootless = false
	if f := p.StorageConfFile(); f != etc {
		t.Errorf("root: %q, want %q", f, etc)
	}
	p.StorageConf = "/x/storage.conf"
	if f := p.StorageConfFile(); f != "/x/storage.conf" {
		t.Errorf("env: %q", f)
	}
}

func TestReadStorageConf(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		conf     string
		driver   string // $STORAGE_DRIVER
		rootless bool
		want     StorageConf // File is filled in
		wantErr  string
	}{
		{name: "setup-env.sh's", rootless: true, conf: "[storage]\ndriver = \"vfs\"\n\n[storage.options.vfs]\nignore_chown_errors = \"true\"\n",
			want: StorageConf{Driver: "vfs", IgnoreChownErrors: true, IgnoreChownRaw: "true", IgnoreChownFrom: "[storage.options.vfs] ignore_chown_errors", GraphRoot: "HOME/.local/share/containers/storage"}},
		{name: "missing", rootless: true, conf: "[storage]\ndriver = \"vfs\"\n",
			want: StorageConf{Driver: "vfs", GraphRoot: "HOME/.local/share/containers/storage"}},
		{name: "other driver's section", rootless: true, conf: "[storage]\ndriver = \"overlay\"\n[storage.options.vfs]\nignore_chown_errors = \"true\"\n",
			want: StorageConf{Driver: "overlay", GraphRoot: "HOME/.local/share/containers/storage"}},
		{name: "generic, overlay2", rootless: true, conf: "[storage]\ndriver = \"overlay2\"\n[storage.options]\nignore_chown_errors = \"1\"\n",
			want: StorageConf{Driver: "overlay", IgnoreChownErrors: true, IgnoreChownRaw: "1", IgnoreChownFrom: "[storage.options] ignore_chown_errors", GraphRoot: "HOME/.local/share/containers/storage"}},
		{name: "driver section wins", rootless: true, conf: "[storage]\ndriver = \"vfs\"\n[storage.options]\nignore_chown_errors = \"true\"\n[storage.options.vfs]\nignore_chown_errors = \"false\"\n",
			want: StorageConf{Driver: "vfs", IgnoreChownRaw: "false", IgnoreChownFrom: "[storage.options.vfs] ignore_chown_errors", GraphRoot: "HOME/.local/share/containers/storage"}},
		{name: "env driver, root", driver: "vfs", conf: "[storage]\ndriver = \"overlay\"\ngraphroot = \"/srv/store\"\n[storage.options.vfs]\nignore_chown_errors = \"true\"\n",
			want: StorageConf{Driver: "vfs", DriverFrom: "$STORAGE_DRIVER", IgnoreChownErrors: true, IgnoreChownRaw: "true", IgnoreChownFrom: "[storage.options.vfs] ignore_chown_errors", GraphRoot: "/srv/store"}},
		{name: "rootless path", rootless: true, conf: "[storage]\nrootless_storage_path = \"$HOME/store\"\n",
			want: StorageConf{GraphRoot: "HOME/store"}},
		{name: "not a boolean", rootless: true, conf: "[storage]\ndriver = \"vfs\"\n[storage.options.vfs]\nignore_chown_errors = \"yes please\"\n",
			want: StorageConf{Driver: "vfs", IgnoreChownRaw: "yes please", IgnoreChownFrom: "[storage.options.vfs] ignore_chown_errors", GraphRoot: "HOME/.local/share/containers/storage"}},
		{name: "TOML boolean", conf: "[storage.options]\nignore_chown_errors = true\n", wantErr: "ignore_chown_errors"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := filepath.Join(dir, "home")
			file := write(t, filepath.Join(dir, tt.name, "storage.conf"), tt.conf)
			p := ConfPlaces{Rootless: tt.rootless, Home: home, StorageConf: file, StorageDriver: tt.driver}
			got, err := p.ReadStorageConf()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.File = file
			if want.DriverFrom == "" && want.Driver != "" {
				want.DriverFrom = file
			}
			want.GraphRoot = strings.Replace(want.GraphRoot, "HOME", home, 1)
			if (got.IgnoreChownErr != nil) != (tt.name == "not a boolean") {
				t.Errorf("IgnoreChownErr %v", got.IgnoreChownErr)
			}
			got.IgnoreChownErr = nil
			if got != want {
				t.Errorf("case %d\n got %+v\nwant %+v", i, got, want)
			}
		})
	}
}
