package stack

import (
	"context"
	"errors"
	"sync"

	"github.com/budgie-sh/budgie/models"
)

// Down stops containers in reverse dependency order: a container stops
// only after everything in cs that depends on it has stopped; independent
// ones stop in parallel. stop is called once per container with its name;
// Down goes on past failures and returns them joined.
func Down(ctx context.Context, cs []models.Container, stop func(ctx context.Context, c models.Container) error) error {
	specs := make([]models.ContainerSpec, len(cs))
	byName := make(map[string]models.Container, len(cs))
	for i, c := range cs {
		specs[i] = c.Spec
		specs[i].Name = c.Name
		byName[c.Name] = c
	}
	levels, err := Levels(specs)
	if err != nil {
		return err
	}
	var errs []error
	var mu sync.Mutex
	for i := len(levels) - 1; i >= 0; i-- {
		var wg sync.WaitGroup
		for _, name := range levels[i] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := stop(ctx, byName[name]); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}
