// Package compose turns a docker compose file into a Budgie bundle.
//
// Load reads the file with the compose specification's own Go library
// (github.com/compose-spec/compose-go/v2), which interpolates ${VAR:-x}
// from the environment and the .env file next to the compose file, applies
// extends, include and profiles, and normalises the model exactly as
// docker compose does. Convert then maps every service to a container of a
// bundle stack and writes the bundle text (the .bun format of
// engine/bundle): that text is the one thing the engine runs, stores and
// shows, whether it came from `budgie run compose.yaml` or from the .bun
// that `budgie convert` wrote.
//
// Nothing is dropped silently. Every field of compose-go's ServiceConfig
// (and of the nested types a mapped field uses) is either mapped to a
// bundle field or refused; a refused field is a problem naming the compose
// file, the line of the key in it (compose-go loses positions, so the
// original YAML is decoded once more with gopkg.in/yaml.v3 to find them)
// and the field's path, with a hint. With ConvertOptions.IgnoreUnsupported
// the same problems become warnings and the fields are left out.
//
// What a bundle cannot say but a compose run needs before its containers
// start — networks to create, secrets to import from files into the node's
// store, bind-mount directories to create — comes back in Result for the
// engine to carry out (see engine.Engine.ConvertCompose).
//
// The package touches nothing but the files it reads and never talks to
// containerd.
package compose
