package diff

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/internal/simulate"
)

// readWorld reads one side's manifests; with recursive, every directory below a directory too
// (hidden ones, such as .git, skipped). The head keeps the base's pod addresses (before).
func readWorld(paths []string, recursive bool, before *pipeline.World) (pipeline.World, []string, error) {
	var all []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return pipeline.World{}, nil, simulate.InputErrorf("-f %s: %w", p, err)
		}
		if !info.IsDir() || !recursive {
			all = append(all, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				all = append(all, path)
			}
			return nil
		})
		if err != nil {
			return pipeline.World{}, nil, simulate.InputErrorf("reading %s: %w", p, err)
		}
	}
	objs, err := manifest.ReadPaths(all...)
	if err != nil {
		return pipeline.World{}, nil, simulate.InputErrorf("reading manifests: %w", err)
	}
	var w pipeline.World
	var notes []string
	if before == nil {
		w, notes, err = pipeline.FromObjects(objs)
	} else {
		w, notes, err = pipeline.FromObjectsAfter(objs, *before)
	}
	if err != nil {
		return w, nil, simulate.InputErrorf("building the cluster from the manifests: %w", err)
	}
	return w, notes, nil
}
